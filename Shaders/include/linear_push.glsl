// Push constants and epilogue shared by the linear / GEMV kernels.
// n0: column offset of this weight slice in Y and in the bias (weights larger than
// maxStorageBufferRange are dispatched in row slices); ldy: row stride of Y (and of the
// residual). Epilogue: y = residual + scale[n] * act(x.w + bias[n]), each part optional.
layout(push_constant) uniform Push {
    uint M; uint N; uint K; uint n0; uint ldy; uint hasBias; uint act; uint hasResidual; uint hasScale;
} pc;

#define ACT_NONE 0u
#define ACT_GELU 1u
#define ACT_SILU 2u
