#version 450
// Decode attention (T new tokens, T small) over a long KV cache, split over the keys
// ("flash decoding"):
//
// SPLIT: workgroup (split s, kv head g) takes the s-th of `splits` equal key ranges of the
//   cache for the ROWS = T * group query rows that read kv head g. Each invocation keeps
//   its rows' q (pre-scaled by log2(e) / sqrt(hd)) and accumulators in registers, runs an
//   online softmax over its keys and writes a partial result (max m, sum l, unnormalised
//   output o) per row. Two layouts, by device:
//   - GPUs: one invocation per row, each over the whole range. The rows read the same key
//     at the same time (a broadcast); few registers per invocation.
//   - CPU devices (LANE_KEYS): every invocation takes all ROWS rows and every
//     workgroup-size-th key of the range. On llvmpipe every load is a gather, so lanes
//     should load different useful values, and each k/v element loaded feeds ROWS rows.
// COMBINE: one workgroup per query row merges the parts:
//   m = max m_p, out = sum exp2(m_p - m) o_p / sum exp2(m_p - m) l_p.
//
// The cache length L = p0 + T comes from a device buffer (p0 = pos[0]) and the ranges are
// cut from it on the device, so one recorded command buffer serves every decode step and
// the grid does not grow with the cache capacity. Query row t sits at position p0 + t and
// sees keys 0 ... p0 + t (masked, not cut short). q and out are stored as activations
// (ACT_F16: fp16), the caches as KV_F16 says; scores, softmax, partial results and
// accumulators are fp32. No subgroup operations, so any subgroup size works.
// variant: decode_attention_split SPLIT
// variant: decode_attention_split_a16 SPLIT ACT_F16
// variant: decode_attention_split_c16 SPLIT KV_F16
// variant: decode_attention_split_a16_c16 SPLIT ACT_F16 KV_F16
// variant: decode_attention_combine COMBINE
// variant: decode_attention_combine_a16 COMBINE ACT_F16

#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_include_directive : require
#include "activation_type.glsl"
#include "kv_type.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;     // head dim, a multiple of 4
layout(constant_id = 2) const uint ROWS = 1;    // T * group: query rows per kv head
layout(constant_id = 3) const bool LANE_KEYS = false;  // see SPLIT above
layout(constant_id = 4) const uint RPI = 1;     // rows per invocation: ROWS if LANE_KEYS, else 1

const uint HD4 = HD / 4;
#define NEG_INF uintBitsToFloat(0xff800000u)

layout(std430, binding = 0) readonly buffer Q { ACT_VEC4 q4[]; };
layout(std430, binding = 1) readonly buffer K { KV_VEC4 k4[]; };
layout(std430, binding = 2) readonly buffer V { KV_VEC4 v4[]; };
#ifdef SPLIT
layout(std430, binding = 3) writeonly buffer PartO { vec4 partO[]; };    // [split][T * heads][HD4]
layout(std430, binding = 4) writeonly buffer PartML { vec2 partML[]; };  // [split][T * heads] (max, sum)
#else
layout(std430, binding = 3) readonly buffer PartO { vec4 partO[]; };
layout(std430, binding = 4) readonly buffer PartML { vec2 partML[]; };
#endif
layout(std430, binding = 5) writeonly buffer O { ACT_VEC4 o4[]; };
layout(std430, binding = 6) readonly buffer Pos { uint pos[]; };

// Strides in vec4 units.
layout(push_constant) uniform Push {
    uint tokens;    // T
    uint heads;     // query heads
    uint group;     // query heads per kv head
    uint capacity;  // cache rows
    uint splits;
    uint parts;     // partial results per row: splits, or splits x invocations (LANE_KEYS)
    uint qStride;
    uint kvStride;
    uint oStride;
    float scale;    // log2(e) / sqrt(hd)
} pc;

// Keys per split for a cache of `length` rows: equal ranges, rounded up to 4 rows.
uint splitSpan(uint length) { return ((length + pc.splits - 1) / pc.splits + 3) & ~3u; }

#ifdef SPLIT
void main() {
    uint split = gl_WorkGroupID.x;
    uint kvHead = gl_WorkGroupID.y;
    uint lid = gl_LocalInvocationID.x;
    // Row r = t * group + i is token t, head kvHead * group + i.
    uint rowFirst = LANE_KEYS ? 0 : lid;
    if (rowFirst >= ROWS) return;      // no barriers below
    uint part = LANE_KEYS ? split * gl_WorkGroupSize.x + lid : split;

    uint p0 = pos[0];
    uint length = min(p0 + pc.tokens, pc.capacity);
    uint span = splitSpan(length);
    uint start = min(split * span, length), end = min(start + span, length);

    vec4 q[RPI * HD4];
    vec4 acc[RPI * HD4];
    float m[RPI], l[RPI];
    uint visible[RPI];                 // the row sees keys < visible
    [[unroll]] for (uint i = 0; i < RPI; i++) {
        uint r = rowFirst + i;
        uint t = r / pc.group, head = kvHead * pc.group + r % pc.group;
        uint qBase = t * pc.qStride + head * HD4;
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            q[i * HD4 + d] = vec4(q4[qBase + d]) * pc.scale;
            acc[i * HD4 + d] = vec4(0.0);
        }
        m[i] = NEG_INF;
        l[i] = 0.0;
        visible[i] = p0 + t + 1;
    }
    uint kvBase = kvHead * HD4;
    uint step = LANE_KEYS ? gl_WorkGroupSize.x : 1;
    for (uint j = start + (LANE_KEYS ? lid : 0); j < end; j += step) {
        uint kvRow = j * pc.kvStride + kvBase;
        float score[RPI];
        [[unroll]] for (uint i = 0; i < RPI; i++) score[i] = 0.0;
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            vec4 kv = vec4(k4[kvRow + d]);
            [[unroll]] for (uint i = 0; i < RPI; i++) score[i] += dot(q[i * HD4 + d], kv);
        }
        float p[RPI];
        [[unroll]] for (uint i = 0; i < RPI; i++) {
            if (j >= visible[i]) score[i] = NEG_INF;
            if (score[i] > m[i]) {
                float correction = exp2(m[i] - score[i]);  // 0 for the first key seen
                l[i] *= correction;
                [[unroll]] for (uint d = 0; d < HD4; d++) acc[i * HD4 + d] *= correction;
                m[i] = score[i];
            }
            // A row that has seen no key yet has m = -inf: weight 0, not NaN.
            p[i] = m[i] == NEG_INF ? 0.0 : exp2(score[i] - m[i]);
            l[i] += p[i];
        }
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            vec4 vv = vec4(v4[kvRow + d]);
            [[unroll]] for (uint i = 0; i < RPI; i++) acc[i * HD4 + d] += p[i] * vv;
        }
    }
    // Every part is written, empty ones as (-inf, 0, 0), so combine needs no bookkeeping.
    [[unroll]] for (uint i = 0; i < RPI; i++) {
        uint r = rowFirst + i;
        uint t = r / pc.group, head = kvHead * pc.group + r % pc.group;
        uint outRow = part * pc.tokens * pc.heads + t * pc.heads + head;
        partML[outRow] = vec2(m[i], l[i]);
        [[unroll]] for (uint d = 0; d < HD4; d++) partO[outRow * HD4 + d] = acc[i * HD4 + d];
    }
}
#else
void main() {
    uint row = gl_WorkGroupID.x;  // t * heads + head
    uint rowsTotal = pc.tokens * pc.heads;
    if (row >= rowsTotal) return;
    uint t = row / pc.heads;
    // Parts that saw no key of this row hold m = -inf and weigh exp2(-inf) = 0; at least
    // one part holds key 0, so m is finite.
    float m = NEG_INF;
    for (uint s = 0; s < pc.parts; s++) m = max(m, partML[s * rowsTotal + row].x);
    float total = 0.0;
    for (uint s = 0; s < pc.parts; s++) {
        vec2 ml = partML[s * rowsTotal + row];
        total += exp2(ml.x - m) * ml.y;
    }
    float inv = 1.0 / total;
    for (uint d = gl_LocalInvocationID.x; d < HD4; d += gl_WorkGroupSize.x) {
        vec4 o = vec4(0.0);
        for (uint s = 0; s < pc.parts; s++) o += exp2(partML[s * rowsTotal + row].x - m) * partO[(s * rowsTotal + row) * HD4 + d];
        o4[t * pc.oStride + (row % pc.heads) * HD4 + d] = ACT_VEC4(o * inv);
    }
}
#endif
