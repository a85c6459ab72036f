#version 450
// Argmax over one logits row, ties to the lowest index, in two passes:
// PARTIAL: workgroup w reduces the contiguous block w*B ..< (w+1)*B to (value, index);
// FINAL:   one workgroup reduces the partials and writes the index (4 bytes to read back).
// Each invocation scans its elements in increasing order and keeps the first maximum; the
// tree reduction in shared memory prefers the larger value, then the lower index. NaN
// logits never win; a row with no comparable value yields index 0.
// variant: argmax_partial PARTIAL
// variant: argmax_final

layout(local_size_x_id = 0) in;   // a power of two

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
#ifdef PARTIAL
layout(std430, binding = 1) writeonly buffer Partials { uvec2 partials[]; };  // (float bits, index)
#else
layout(std430, binding = 1) readonly buffer Partials { uvec2 partials[]; };
#endif
layout(std430, binding = 2) writeonly buffer Result { uint result[]; };

layout(push_constant) uniform Push {
    uint count;      // logits
    uint blockSize;  // logits per partial workgroup
    uint partialCount;
} pc;

#define NO_INDEX 0xFFFFFFFFu
#define NEG_INF uintBitsToFloat(0xff800000u)

shared float bestValue[gl_WorkGroupSize.x];
shared uint bestIndex[gl_WorkGroupSize.x];

bool better(float v, uint i, float bv, uint bi) {
    return bi == NO_INDEX ? i != NO_INDEX : (i != NO_INDEX && (v > bv || (v == bv && i < bi)));
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    float bv = NEG_INF;
    uint bi = NO_INDEX;
#ifdef PARTIAL
    uint start = gl_WorkGroupID.x * pc.blockSize;
    uint end = min(start + pc.blockSize, pc.count);
    for (uint i = start + lid; i < end; i += gl_WorkGroupSize.x) {
        float v = logits[i];
        if (v > bv || (bi == NO_INDEX && v == NEG_INF)) { bv = v; bi = i; }
    }
#else
    for (uint p = lid; p < pc.partialCount; p += gl_WorkGroupSize.x) {
        uvec2 e = partials[p];
        float v = uintBitsToFloat(e.x);
        if (better(v, e.y, bv, bi)) { bv = v; bi = e.y; }
    }
#endif
    bestValue[lid] = bv;
    bestIndex[lid] = bi;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (lid < s && better(bestValue[lid + s], bestIndex[lid + s], bestValue[lid], bestIndex[lid])) {
            bestValue[lid] = bestValue[lid + s];
            bestIndex[lid] = bestIndex[lid + s];
        }
        barrier();
    }
    if (lid == 0) {
#ifdef PARTIAL
        partials[gl_WorkGroupID.x] = uvec2(floatBitsToUint(bestValue[0]), bestIndex[0]);
#else
        result[0] = bestIndex[0] == NO_INDEX ? 0u : bestIndex[0];
#endif
    }
}
