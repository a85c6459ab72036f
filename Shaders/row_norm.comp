#version 450
// Normalisation over rows of `width` values, statistics in fp32, one workgroup per row:
//   RMSNorm (Qwen2):  y = w * x / sqrt(mean(x^2) + eps)
//   LayerNorm:        y = (x - mean) / sqrt(var + eps) * w + b   (biased variance; on an HWC
//                     map with rows = pixels this is FastViTHD's channel LayerNorm)
// rmsnorm_a16_in32: fp32 rows in, fp16 rows out (the decoder's fp32 residual stream normed into
// the fp16 rows its projections read).
// variant: rmsnorm RMS
// variant: rmsnorm_a16 RMS ACT_F16
// variant: rmsnorm_a16_in32 RMS ACT_F16 IN_F32
// variant: layernorm LAYER
// variant: layernorm_a16 LAYER ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;
#include "workgroup_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { OUT_T y[]; };
layout(push_constant) uniform Push { uint rows; uint width; float eps; } pc;

void main() {
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.rows) return;   // uniform per workgroup
    uint base = row * pc.width;
    float n = float(pc.width);
#ifdef RMS
    float ss = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) {
        float v = float(x[base + i]);
        ss += v * v;
    }
    float scale = inversesqrt(workgroup_sum(ss) / n + pc.eps);
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) {
        y[base + i] = OUT_T(w[i] * (float(x[base + i]) * scale));
    }
#else
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) s += float(x[base + i]);
    float mean = workgroup_sum(s) / n;
    float d2 = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) {
        float d = float(x[base + i]) - mean;
        d2 += d * d;
    }
    float inv = inversesqrt(workgroup_sum(d2) / n + pc.eps);
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) {
        y[base + i] = OUT_T((float(x[base + i]) - mean) * inv * w[i] + b[i]);
    }
#endif
}
