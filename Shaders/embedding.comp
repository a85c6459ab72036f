#version 450
// Embedding gather: out[t][:] = table[ids[t]][:] in fp32 (fp16 with ACT_F16), for the ids that fall in the
// table rows bound to this dispatch (firstRow ..< firstRow + rowCount). A table larger
// than maxStorageBufferRange is bound in row slices, one dispatch each. Ids outside the
// slice - including the image sentinel 0xFFFFFFFF, whose rows the projector output fills -
// leave their output rows untouched. The table is a LinearWeight in any format (rows of
// w_row_bytes(hidden) bytes, dequantized by Shaders/include/weight_load.glsl, the same
// reads as the tied LM head's GEMV). Grid-stride over T x hidden, one value each.
// variant: embedding_f32 WEIGHT_F32
// variant: embedding_f16 WEIGHT_F16
// variant: embedding_bf16 WEIGHT_BF16
// variant: embedding_q8 WEIGHT_Q8
// variant: embedding_q4 WEIGHT_Q4
// variant: embedding_f32_a16 WEIGHT_F32 ACT_F16
// variant: embedding_f16_a16 WEIGHT_F16 ACT_F16
// variant: embedding_bf16_a16 WEIGHT_BF16 ACT_F16
// variant: embedding_q8_a16 WEIGHT_Q8 ACT_F16
// variant: embedding_q4_a16 WEIGHT_Q4 ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;

#define WEIGHT_BINDING 0
#include "weight_load.glsl"
layout(std430, binding = 1) readonly buffer Ids { uint ids[]; };
layout(std430, binding = 2) writeonly buffer Out { ACT_T out1[]; };

layout(push_constant) uniform Push {
    uint tokens;
    uint hidden;
    uint firstRow;
    uint rowCount;
} pc;

void main() {
    uint total = pc.tokens * pc.hidden;
    uint rowBytes = w_row_bytes(pc.hidden);
    for (uint i = gl_GlobalInvocationID.x; i < total; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        uint t = i / pc.hidden, c = i % pc.hidden;
        uint row = ids[t] - pc.firstRow;  // ids below firstRow wrap to huge values
        if (row >= pc.rowCount) continue;
        out1[i] = ACT_T(w_load1(row * rowBytes, c, pc.hidden));
    }
}
