#version 450
// Storage-type conversion of a flat array.
// convert: y = x, fp16 -> fp32 (exact): where an fp16-activation graph hands its result to
//   fp32 code (the vision encoder's projected rows, the language model's last row before
//   its fp32 logits).
// convert_to_half: y[yOffset + i] = x[xOffset + i], fp32 -> fp16 (rounded to nearest): the
//   projector's fp32 image rows spliced into fp16 decoder rows. The offsets (in elements) let
//   the whole buffers be bound, whatever the binding offset alignment.
// variant: convert
// variant: convert_to_half TO_HALF
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_16bit_storage : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
#ifdef TO_HALF
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float16_t y[]; };
layout(push_constant) uniform Push { uint n; uint xOffset; uint yOffset; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.n) y[pc.yOffset + i] = float16_t(x[pc.xOffset + i]);
}
#else
layout(std430, binding = 0) readonly buffer X { float16_t x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.n) y[i] = float(x[i]);
}
#endif
