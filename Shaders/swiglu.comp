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

// x: columns (grid-stride), y: rows (grid-stride): no integer division per element, which
// CPU devices cannot vectorise.
void main() {
    for (uint t = gl_WorkGroupID.y; t < pc.rows; t += gl_NumWorkGroups.y) {
        for (uint j = gl_GlobalInvocationID.x; j < pc.width; j += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
            uint gate = t * 2u * pc.width + j;
            y[t * pc.width + j] = ACT_T(silu(float(x[gate])) * float(x[gate + pc.width]));
        }
    }
}
