#version 450
// Elementwise ops over flat fp32 arrays; unary ops ignore `b`.
// variant: elementwise_add OP_ADD
// variant: elementwise_mul OP_MUL
// variant: elementwise_gelu OP_GELU
// variant: elementwise_silu OP_SILU
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.n) {
#if defined(OP_ADD)
        y[i] = a[i] + b[i];
#elif defined(OP_MUL)
        y[i] = a[i] * b[i];
#elif defined(OP_GELU)
        y[i] = gelu(a[i]);
#elif defined(OP_SILU)
        y[i] = silu(a[i]);
#endif
    }
}
