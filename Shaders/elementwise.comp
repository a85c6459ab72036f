#version 450
// Elementwise ops over flat arrays (fp32 or fp16 storage); unary ops ignore `b`.
// variant: elementwise_add OP_ADD
// variant: elementwise_mul OP_MUL
// variant: elementwise_gelu OP_GELU
// variant: elementwise_silu OP_SILU
// variant: elementwise_add_a16 OP_ADD ACT_F16
// variant: elementwise_mul_a16 OP_MUL ACT_F16
// variant: elementwise_gelu_a16 OP_GELU ACT_F16
// variant: elementwise_silu_a16 OP_SILU ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer A { ACT_T a[]; };
layout(std430, binding = 1) readonly buffer B { ACT_T b[]; };
layout(std430, binding = 2) writeonly buffer Y { ACT_T y[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.n) {
        float va = float(a[i]);
#if defined(OP_ADD)
        y[i] = ACT_T(va + float(b[i]));
#elif defined(OP_MUL)
        y[i] = ACT_T(va * float(b[i]));
#elif defined(OP_GELU)
        y[i] = ACT_T(gelu(va));
#elif defined(OP_SILU)
        y[i] = ACT_T(silu(va));
#endif
    }
}
