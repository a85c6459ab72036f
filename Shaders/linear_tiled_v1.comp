#version 450
// The previous tiled GEMM, kept only as the baseline `fastvlm-gpu bench ops --kernel tiled-v1`
// times linear_tiled.comp against on the same shapes (LinearBenchmark); no op uses it.
// Y[m, n0+n] = act(X[m,:] . W[n,:] + b[n0+n]) with W stored [N][K] (PyTorch Linear layout).
// Shared-memory tiled GEMM: 64x64 output tile per 16x16 workgroup, 4x4 per thread,
// K in steps of 16. Any M, N, K (edges are zero-filled). Weights in any format of
// Shaders/include/weight_load.glsl, dequantized to fp32 while the tile is loaded.
// variant: linear_tiled_v1_f16 WEIGHT_F16
// variant: linear_tiled_v1_f16_a16 WEIGHT_F16 ACT_F16
// variant: linear_tiled_v1_f32 WEIGHT_F32
// variant: linear_tiled_v1_f32_a16 WEIGHT_F32 ACT_F16
// variant: linear_tiled_v1_bf16 WEIGHT_BF16
// variant: linear_tiled_v1_bf16_a16 WEIGHT_BF16 ACT_F16
// variant: linear_tiled_v1_q8 WEIGHT_Q8
// variant: linear_tiled_v1_q8_a16 WEIGHT_Q8 ACT_F16
// variant: linear_tiled_v1_q4 WEIGHT_Q4
// variant: linear_tiled_v1_q4_a16 WEIGHT_Q4 ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "activation_type.glsl"
#include "linear_push.glsl"

layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
#define WEIGHT_BINDING 1
#include "weight_load.glsl"
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { ACT_T y[]; };
layout(std430, binding = 4) readonly buffer Residual { ACT_T residual[]; };
layout(std430, binding = 5) readonly buffer Scale { float scale[]; };
#include "linear_epilogue.glsl"

const uint BM = 64, BN = 64, BK = 16;
shared float As[BK][BM];
shared float Bs[BK][BN];

void main() {
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint t = ty * 16 + tx;
    uint nTile = gl_WorkGroupID.x * BN, mTile = gl_WorkGroupID.y * BM;
    uint rowBytes = w_row_bytes(pc.K);
    float acc[4][4];
    for (uint i = 0; i < 4; i++) for (uint j = 0; j < 4; j++) acc[i][j] = 0.0;

    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
        for (uint r = 0; r < 4; r++) {
            uint e = t + 256 * r;
            uint row = e / BK, kk = e % BK;
            uint k = k0 + kk;
            uint m = mTile + row, n = nTile + row;
            As[kk][row] = (m < pc.M && k < pc.K) ? float(x[m * pc.K + k]) : 0.0;
#ifndef W_QUANT
            Bs[kk][row] = (n < pc.N && k < pc.K) ? w_load1(n * rowBytes, k, pc.K) : 0.0;
#endif
        }
#ifdef W_QUANT
        // K is a multiple of the block (and of BK): each thread dequantizes four consecutive
        // values of one row from one word of codes and one scale.
        {
            uint row = t / 4u, kk = (t % 4u) * 4u;
            uint n = nTile + row;
            vec4 wv = n < pc.N ? w_load4(n * rowBytes, k0 + kk, pc.K) : vec4(0.0);
            Bs[kk][row] = wv.x; Bs[kk + 1u][row] = wv.y; Bs[kk + 2u][row] = wv.z; Bs[kk + 3u][row] = wv.w;
        }
#endif
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            float a[4], b[4];
            for (uint i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
            for (uint j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
            for (uint i = 0; i < 4; i++) for (uint j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        barrier();
    }
    for (uint i = 0; i < 4; i++) {
        uint m = mTile + ty + 16 * i;
        if (m >= pc.M) continue;
        for (uint j = 0; j < 4; j++) {
            uint n = nTile + tx + 16 * j;
            if (n < pc.N) y[m * pc.ldy + pc.n0 + n] = ACT_T(linear_epilogue(acc[i][j], m, n));
        }
    }
}
