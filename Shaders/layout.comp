#version 450
// Transpose of a row-major [rows][cols] fp32 matrix into [cols][rows]: CHW -> HWC is
// rows = C, cols = H*W; HWC -> CHW is rows = H*W, cols = C. One invocation per output element,
// so writes are contiguous across lanes and reads strided (the vision tower only converts the
// 3-channel input image; the other direction is for comparing and dumping). layout_a16 writes
// y as fp16: the fp32 image becomes the first map of an fp16-activation tower.
// variant: layout
// variant: layout_a16 ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { ACT_T y[]; };
layout(push_constant) uniform Push { uint rows; uint cols; } pc;

void main() {
    GRID_STRIDE_LOOP(i, pc.rows * pc.cols) {
        uint c = i / pc.rows, r = i % pc.rows;
        y[i] = ACT_T(x[r * pc.cols + c]);
    }
}
