#version 450
// Numerically stable softmax over rows, in place or out of place. One workgroup per row.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#include "workgroup_reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint rows; uint width; } pc;

void main() {
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.rows) return;
    uint base = row * pc.width;
    float m = -3.402823e38;
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) m = max(m, x[base + i]);
    m = workgroup_max(m);
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) s += exp(x[base + i] - m);
    float inv = 1.0 / workgroup_sum(s);
    for (uint i = gl_LocalInvocationID.x; i < pc.width; i += gl_WorkGroupSize.x) y[base + i] = exp(x[base + i] - m) * inv;
}
