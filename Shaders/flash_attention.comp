#version 450
// Attention forward, flash style: O = softmax(Q K^T * scale [+ causal mask]) V per head,
// computed tile by tile with an online softmax (running max and sum in fp32), so the
// rows x keys score matrix never exists in memory.
//
// One invocation owns QPI query rows of one head: their q (pre-multiplied by scale * log2 e,
// so exp becomes exp2) and output accumulators live in registers. A workgroup holds
// BQ * QPI consecutive query rows of one head (x: query block, y: head) and walks the keys
// in tiles of BK; every key element loaded feeds the QPI rows of the invocation (on CPU
// devices each load is a gather, so this register blocking is what makes the kernel fast
// there; GPUs use QPI = 1). The key loop itself is not unrolled: llvmpipe JIT-compiles
// every pipeline, and a fully unrolled 32-key x 64-dim body took over a minute to compile.
// No subgroup operations, so any subgroup size works.
//
// K/V tiles are either staged in shared memory by the whole workgroup (GPUs: every key is
// read once per workgroup and then broadcast from shared memory), or read straight from
// the buffer (CPU devices such as lavapipe, where shared memory is ordinary memory and
// barriers are costly). Both read at uniform addresses.
//
// Used by VisionAttentionOp (no mask; q, k, v are column ranges of one qkv buffer) and by
// CausalAttentionOp (CAUSAL: query row i sits at position p0 + i, p0 read from a device
// buffer, and sees keys 0 ... p0 + i of the caches; GQA through group).
// ACT_F16 stores q and out as fp16 (and k, v without CAUSAL, where they are activations
// too); with CAUSAL the caches are fp16 under KV_F16. Scores, softmax, accumulators and the
// shared tiles stay fp32.
// variant: flash_attention
// variant: flash_attention_a16 ACT_F16
// variant: flash_attention_causal CAUSAL
// variant: flash_attention_causal_a16 CAUSAL ACT_F16
// variant: flash_attention_causal_c16 CAUSAL KV_F16
// variant: flash_attention_causal_a16_c16 CAUSAL ACT_F16 KV_F16

#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "activation_type.glsl"
#ifdef CAUSAL
#include "kv_type.glsl"
#define KEY_VEC4 KV_VEC4
#else
#define KEY_VEC4 ACT_VEC4
#endif

layout(local_size_x_id = 0) in;                 // BQ: invocations per workgroup
layout(constant_id = 1) const uint HD = 32;     // head dim, a multiple of 4
layout(constant_id = 2) const uint BK = 32;     // keys per tile
layout(constant_id = 3) const bool STAGED = true;  // K/V tiles through shared memory
layout(constant_id = 4) const uint SHARED_VEC4 = 256;  // BK * HD / 4 when STAGED, else 1
layout(constant_id = 5) const uint QPI = 1;     // query rows per invocation

const uint HD4 = HD / 4;
#define NEG_INF uintBitsToFloat(0xff800000u)

layout(std430, binding = 0) readonly buffer Q { ACT_VEC4 q4[]; };
layout(std430, binding = 1) readonly buffer K { KEY_VEC4 k4[]; };
layout(std430, binding = 2) readonly buffer V { KEY_VEC4 v4[]; };
layout(std430, binding = 3) writeonly buffer O { ACT_VEC4 o4[]; };
layout(std430, binding = 4) readonly buffer Pos { uint pos[]; };

// Strides and offsets in vec4 units.
layout(push_constant) uniform Push {
    uint rows;      // query rows (N tokens, or T new tokens)
    uint keys;      // N (no mask), or the cache capacity in rows (CAUSAL)
    uint group;     // query heads per kv head
    uint qStride;
    uint kStride;
    uint vStride;
    uint oStride;
    uint qOffset;
    uint kOffset;
    uint vOffset;
    float scale;    // log2(e) / sqrt(hd)
} pc;

shared vec4 kTile[SHARED_VEC4];
shared vec4 vTile[SHARED_VEC4];

// Element d (vec4 units) of key / value j0 + jj: from the staged tile or from the buffer.
vec4 loadK(uint base, uint j0, uint jj, uint d) {
    if (STAGED) return kTile[jj * HD4 + d];
    return vec4(k4[base + (j0 + jj) * pc.kStride + d]);
}

vec4 loadV(uint base, uint j0, uint jj, uint d) {
    if (STAGED) return vTile[jj * HD4 + d];
    return vec4(v4[base + (j0 + jj) * pc.vStride + d]);
}

void main() {
    uint head = gl_WorkGroupID.y;
    uint kvHead = head / pc.group;
    uint blockRows = gl_WorkGroupSize.x * QPI;
    uint first = gl_WorkGroupID.x * blockRows;
    uint lastRow = min(first + blockRows, pc.rows) - 1;
#ifdef CAUSAL
    uint p0 = pos[0];
    uint length = min(p0 + pc.rows, pc.keys);
    uint keyEnd = min(p0 + lastRow + 1, length);     // keys this workgroup needs
#else
    uint keyEnd = pc.keys;
#endif

    // Rows first + lid + i * BQ, i < QPI; rows past the end shadow the last row (not stored).
    vec4 q[QPI * HD4];
    vec4 acc[QPI * HD4];
    float m[QPI];       // running max of the scores (log2 domain)
    float l[QPI];       // running sum of exp2(s - m)
    uint visible[QPI];  // keys the row sees
    [[unroll]] for (uint i = 0; i < QPI; i++) {
        uint r = min(first + gl_LocalInvocationID.x + i * gl_WorkGroupSize.x, lastRow);
        uint qBase = pc.qOffset + r * pc.qStride + head * HD4;
        [[unroll]] for (uint d = 0; d < HD4; d++) {
            q[i * HD4 + d] = vec4(q4[qBase + d]) * pc.scale;
            acc[i * HD4 + d] = vec4(0.0);
        }
        m[i] = NEG_INF;
        l[i] = 0.0;
#ifdef CAUSAL
        visible[i] = min(p0 + r + 1, length);
#else
        visible[i] = keyEnd;
#endif
    }

    uint kBase = pc.kOffset + kvHead * HD4;
    uint vBase = pc.vOffset + kvHead * HD4;
    for (uint j0 = 0; j0 < keyEnd; j0 += BK) {
        if (STAGED) {
            barrier();  // the previous tile has been consumed
            for (uint t = gl_LocalInvocationID.x; t < BK * HD4; t += gl_WorkGroupSize.x) {
                uint j = j0 + t / HD4;
                uint d = t % HD4;
                vec4 kv = vec4(0.0), vv = vec4(0.0);
                if (j < keyEnd) {
                    kv = vec4(k4[kBase + j * pc.kStride + d]);
                    vv = vec4(v4[vBase + j * pc.vStride + d]);
                }
                kTile[t] = kv;
                vTile[t] = vv;
            }
            barrier();
        }
        // The key loop has a workgroup-uniform bound (causal rows mask the keys past their
        // position instead of stopping early), and each key element is loaded once for the
        // QPI rows of an invocation.
        uint tileKeys = min(BK, keyEnd - j0);
        for (uint jj = 0; jj < tileKeys; jj++) {
            float score[QPI];
            [[unroll]] for (uint i = 0; i < QPI; i++) score[i] = 0.0;
            [[unroll]] for (uint d = 0; d < HD4; d++) {
                vec4 kv = loadK(kBase, j0, jj, d);
                [[unroll]] for (uint i = 0; i < QPI; i++) score[i] += dot(q[i * HD4 + d], kv);
            }
            float p[QPI];
            [[unroll]] for (uint i = 0; i < QPI; i++) {
                // Key 0 is visible to every row and comes first, so m is finite before the
                // first masked key: exp2(-inf - m) = 0, never NaN.
                if (j0 + jj >= visible[i]) score[i] = NEG_INF;
                // Online softmax: rescale only when the running max grows (rare after the
                // first keys), so most keys cost one exp2. m = -inf at first gives 0.
                if (score[i] > m[i]) {
                    float correction = exp2(m[i] - score[i]);
                    l[i] *= correction;
                    [[unroll]] for (uint d = 0; d < HD4; d++) acc[i * HD4 + d] *= correction;
                    m[i] = score[i];
                }
                p[i] = exp2(score[i] - m[i]);
                l[i] += p[i];
            }
            [[unroll]] for (uint d = 0; d < HD4; d++) {
                vec4 vv = loadV(vBase, j0, jj, d);
                [[unroll]] for (uint i = 0; i < QPI; i++) acc[i * HD4 + d] += p[i] * vv;
            }
        }
    }

    [[unroll]] for (uint i = 0; i < QPI; i++) {
        uint row = first + gl_LocalInvocationID.x + i * gl_WorkGroupSize.x;
        if (row < pc.rows) {
            float inv = 1.0 / l[i];
            uint oBase = row * pc.oStride + head * HD4;
            [[unroll]] for (uint d = 0; d < HD4; d++) o4[oBase + d] = ACT_VEC4(acc[i * HD4 + d] * inv);
        }
    }
}
