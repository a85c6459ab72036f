#version 450
// RMSNorm over rows (Qwen2): y = w * x / sqrt(mean(x^2) + eps), statistics in fp32.
// One workgroup per row.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "workgroup_reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint rows; uint width; float eps; } pc;

void main() {
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.rows) return;
    uint base = row * pc.width;
    float ss = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) {
        float v = x[base + i];
        ss += v * v;
    }
    float scale = inversesqrt(workgroup_sum(ss) / float(pc.width) + pc.eps);
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) {
        y[base + i] = w[i] * (x[base + i] * scale);
    }
}
