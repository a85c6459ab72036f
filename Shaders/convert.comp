#version 450
// y = x, stored as fp32 where x is fp16: where an fp16-activation graph hands its result to
// fp32 code (the vision encoder's projected rows feed the language model's fp32 rows).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_16bit_storage : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float16_t x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.n) y[i] = float(x[i]);
}
