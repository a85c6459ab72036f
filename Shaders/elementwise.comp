#version 450
// Elementwise binary and unary ops over flat fp32 arrays.
// variant: elementwise_add OP_ADD=1
// variant: elementwise_mul OP_MUL=1
// variant: elementwise_gelu OP_GELU=1
// variant: elementwise_silu OP_SILU=1
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.n) return;
#if defined(OP_ADD)
    y[i] = a[i] + b[i];
#elif defined(OP_MUL)
    y[i] = a[i] * b[i];
#else
    y[i] = a[i];
#endif
}
