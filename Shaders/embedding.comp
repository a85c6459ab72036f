#version 450
// Embedding gather: out[t][:] = table[ids[t]][:] in fp32, for the ids that fall in the
// table rows bound to this dispatch (firstRow ..< firstRow + rowCount). A table larger
// than maxStorageBufferRange is bound in row slices, one dispatch each. Ids outside the
// slice - including the image sentinel 0xFFFFFFFF, whose rows the projector output fills -
// leave their output rows untouched. fp16 tables are read two values per 32-bit word (the
// hidden size must be even). Grid-stride over T x columns.
// variant: embedding_f32
// variant: embedding_f16 TABLE_F16

layout(local_size_x_id = 0) in;

#ifdef TABLE_F16
layout(std430, binding = 0) readonly buffer Table { uint table[]; };   // half pairs
layout(std430, binding = 2) writeonly buffer Out { vec2 out2[]; };
#else
layout(std430, binding = 0) readonly buffer Table { float table[]; };
layout(std430, binding = 2) writeonly buffer Out { float out1[]; };
#endif
layout(std430, binding = 1) readonly buffer Ids { uint ids[]; };

layout(push_constant) uniform Push {
    uint tokens;
    uint columns;   // hidden (fp32) or hidden / 2 (fp16 pairs)
    uint firstRow;
    uint rowCount;
} pc;

void main() {
    uint total = pc.tokens * pc.columns;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        uint t = i / pc.columns, c = i % pc.columns;
        uint row = ids[t] - pc.firstRow;  // ids below firstRow wrap to huge values
        if (row >= pc.rowCount) continue;
#ifdef TABLE_F16
        out2[i] = unpackHalf2x16(table[row * pc.columns + c]);
#else
        out1[i] = table[row * pc.columns + c];
#endif
    }
}
