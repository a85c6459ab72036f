#version 450
// Squeeze-excite on an HWC map x[P][C] (FastViTHD's conv_exp), in four small dispatches:
//   SE_MEAN:  m[c] = mean_p x[p, c]                      (fp32 sums, one workgroup per channel block)
//   SE_FC:    out[n] = act(W[n, :] . in + b[n])          (W [N][K] as LinearWeight stores it, any format;
//                                                          one workgroup per output, act ReLU or sigmoid)
//   SE_SCALE: y[p, c] = act(x[p, c] * s[c])              (act GELU or none; y may alias x)
// The FCs are 3072x192 and 192x3072 on a single vector: too small to be worth LinearOp's GEMM
// kernels, and they need ReLU and sigmoid, which its epilogue does not have.
// The _a16 variants of mean and scale read and write the map x / y as fp16; the FC vectors
// (mean, hidden, gate) are C or R floats and stay fp32.
// variant: se_mean SE_MEAN
// variant: se_mean_a16 SE_MEAN ACT_F16
// variant: se_fc_f32 SE_FC WEIGHT_F32
// variant: se_fc_f16 SE_FC WEIGHT_F16
// variant: se_fc_bf16 SE_FC WEIGHT_BF16
// variant: se_fc_q8 SE_FC WEIGHT_Q8
// variant: se_fc_q4 SE_FC WEIGHT_Q4
// variant: se_scale SE_SCALE
// variant: se_scale_a16 SE_SCALE ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;

#if defined(SE_MEAN)
// The workgroup is CH channel lanes x (size / CH) pixel lanes; size / CH must be a power of two.
layout(constant_id = 1) const uint CH = 32;
layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
layout(std430, binding = 1) writeonly buffer M { float m[]; };
layout(push_constant) uniform Push { uint pixels; uint channels; } pc;
shared float partial[1024];

void main() {
    uint block = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint t = gl_LocalInvocationID.x;
    uint lane = t % CH, pixelLanes = gl_WorkGroupSize.x / CH, pl = t / CH;
    uint c = block * CH + lane;
    if (block * CH >= pc.channels) return;   // uniform per workgroup
    float s = 0.0;
    if (c < pc.channels) {
        for (uint p = pl; p < pc.pixels; p += pixelLanes) s += float(x[p * pc.channels + c]);
    }
    partial[t] = s;
    barrier();
    for (uint half_ = pixelLanes / 2; half_ > 0; half_ >>= 1) {
        if (pl < half_) partial[t] += partial[t + half_ * CH];
        barrier();
    }
    if (pl == 0 && c < pc.channels) m[c] = partial[t] / float(pc.pixels);
}

#elif defined(SE_FC)
#include "workgroup_reduce.glsl"
layout(std430, binding = 0) readonly buffer In { float v[]; };
#define WEIGHT_BINDING 1
#include "weight_load.glsl"
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Out { float o[]; };
// act: 1 ReLU, 2 sigmoid.
layout(push_constant) uniform Push { uint n; uint k; uint hasBias; uint act; } pc;

void main() {
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.n) return;   // uniform per workgroup
    float s = 0.0;
    uint rowByte = row * w_row_bytes(pc.k);
    for (uint i = gl_LocalInvocationID.x; i < pc.k; i += gl_WorkGroupSize.x) s += w_load1(rowByte, i, pc.k) * v[i];
    s = workgroup_sum(s);
    if (gl_LocalInvocationID.x == 0) {
        if (pc.hasBias != 0u) s += b[row];
        if (pc.act == 1u) s = max(s, 0.0);
        else if (pc.act == 2u) s = 1.0 / (1.0 + exp(-s));
        o[row] = s;
    }
}

#elif defined(SE_SCALE)
layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
layout(std430, binding = 1) readonly buffer G { float gate[]; };
layout(std430, binding = 2) writeonly buffer Y { ACT_T y[]; };
layout(push_constant) uniform Push { uint count; uint channels; uint gelu; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.count) {
        float v = float(x[i]) * gate[i % pc.channels];
        y[i] = ACT_T(pc.gelu != 0u ? gelu(v) : v);
    }
}
#endif
