#version 450
// SwiGLU over rows: y[t][i] = silu(x[t][i]) * x[t][width + i] for x [rows][2 * width], i.e.
// Qwen2's silu(gate) * up when gate and up come out of one GEMM over the stacked
// [gate; up] weight. fp32 or fp16 storage, fp32 arithmetic.
// variant: swiglu
// variant: swiglu_a16 ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
layout(std430, binding = 1) writeonly buffer Y { ACT_T y[]; };
layout(push_constant) uniform Push { uint rows; uint width; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.rows * pc.width) {
        uint t = i / pc.width, j = i % pc.width;
        uint gate = t * 2u * pc.width + j;
        y[i] = ACT_T(silu(float(x[gate])) * float(x[gate + pc.width]));
    }
}
