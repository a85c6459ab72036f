#version 450
// Reference.sample on the device for one logits row, in one workgroup:
// temperature -> top-k -> softmax -> top-p -> one draw with the uniform the host wrote.
//
// Sorted order is logit descending, index ascending. Element j gets the 64-bit composite key
// (valueKey(logit), ~j); larger composite = earlier in the order, so every kept set is
// "composite >= cut" for the cut element. Each step is one search: find the element at which
// the weights (1 per element, or its probability mass) summed in sorted order first reach a
// target. The search fixes the composite one byte at a time, high to low: per pass, a
// 256-bucket histogram of the elements that match the bytes fixed so far, then one
// invocation walks the buckets from the top. It stops as soon as the chosen bucket holds one
// element. A target past the whole set takes its last element (Reference.sample's fallback).
//
// Masses are p = exp(l / T - max / T) <= 1 in 64-bit fixed point (p * 2^40 rounded, two
// uints, carries counted exactly; 2^18 tokens sum below 2^58), so the sums do not depend on
// the order of the atomics and the result is deterministic. The reference sums the same fp32
// p in fp64: only a draw within about 1e-7 (relative) of a boundary between two tokens can
// choose differently.
//
// Steps: greedy (T <= 0 or top-k 1): the first element. Otherwise max logit (one pass);
// top-k cut (count search, target k); total mass of the top-k set; top-p cut (mass search,
// first cumulative >= p * total); draw (mass search, first cumulative > u * kept mass).
// p * total and u * kept are exact products of the fixed-point sums and the fp32 p and u.
// NaN logits sort last with no mass; -0 equals +0.

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) readonly buffer Params {
    float temperature;
    uint topK;       // 0: no top-k
    float topP;      // >= 1: no top-p
    float uniformDraw;  // in [0, 1)
} params;
layout(std430, binding = 2) writeonly buffer Result { uint result[]; };

layout(push_constant) uniform Push { uint count; } pc;

#define BUCKETS 256u
#define NO_INDEX 0xFFFFFFFFu

shared uint hCount[BUCKETS];
shared uint hLo[BUCKETS];    // mass per bucket, low and high words
shared uint hHi[BUCKETS];
shared uint hIndex[BUCKETS]; // lowest index in the bucket (the element when it is alone)

shared uint sPrefixV;   // composite bytes fixed so far (value word, index word)
shared uint sPrefixI;
shared uint sFound;     // the search has isolated one element
shared uint sIndex;     // its index
shared uint sPastEnd;   // the target exceeded the set: walk to its last element
shared uvec2 sCum;      // weight of the elements before it (hi, lo)
shared uvec2 sWeight;   // weight of the bucket (finally: the element) chosen
shared uvec2 sTarget;   // target left inside the chosen bucket
shared uint sMaxKey;
shared uint sTotalLo;
shared uint sTotalHi;

// Order-preserving uint of a float: larger float, larger key. NaN -> 0 (last).
uint valueKey(float f) {
    if (isnan(f)) return 0u;
    uint b = floatBitsToUint(f == 0.0 ? 0.0 : f);
    return (b & 0x80000000u) != 0u ? ~b : (b | 0x80000000u);
}

float keyValue(uint k) {
    return uintBitsToFloat((k & 0x80000000u) != 0u ? (k & 0x7FFFFFFFu) : ~k);
}

// 64-bit unsigned helpers on (hi, lo).
uvec2 add64(uvec2 a, uvec2 b) {
    uint carry;
    uint lo = uaddCarry(a.y, b.y, carry);
    return uvec2(a.x + b.x + carry, lo);
}
uvec2 sub64(uvec2 a, uvec2 b) {
    uint borrow;
    uint lo = usubBorrow(a.y, b.y, borrow);
    return uvec2(a.x - b.x - borrow, lo);
}
bool ge64(uvec2 a, uvec2 b) { return a.x > b.x || (a.x == b.x && a.y >= b.y); }

// floor (or ceil) of a * f for 0 <= f < 1, exactly: f = M * 2^(e - 24) with a 24-bit
// integer M, so a * f is the 96-bit product a * M shifted right by 24 - e >= 24.
uvec2 scaleBy(uvec2 a, float f, bool roundUp) {
    if (!(f > 0.0)) return uvec2(0u);
    int e;
    float m = frexp(f, e);
    uint M = uint(m * 16777216.0);
    uint loHi, loLo, hiHi, hiLo, carry;
    umulExtended(a.y, M, loHi, loLo);
    umulExtended(a.x, M, hiHi, hiLo);
    uint w[5];
    w[0] = loLo;
    w[1] = uaddCarry(loHi, hiLo, carry);
    w[2] = hiHi + carry;
    w[3] = 0u;
    w[4] = 0u;
    uint shift = uint(24 - e);
    if (shift >= 96u) {
        bool any = (w[0] | w[1] | w[2]) != 0u;
        return uvec2(0u, roundUp && any ? 1u : 0u);
    }
    uint q = shift / 32u, r = shift % 32u;
    uvec2 out_;
    if (r == 0u) out_ = uvec2(w[q + 1u], w[q]);
    else out_ = uvec2((w[q + 1u] >> r) | (w[q + 2u] << (32u - r)), (w[q] >> r) | (w[q + 1u] << (32u - r)));
    bool inexact = r != 0u && (w[q] & ((1u << r) - 1u)) != 0u;
    for (uint i = 0u; i < q; i++) inexact = inexact || w[i] != 0u;
    return roundUp && inexact ? add64(out_, uvec2(0u, 1u)) : out_;
}
uvec2 fromFloat(float x) {
    float hi = floor(x / 4294967296.0);
    return uvec2(uint(hi), uint(x - hi * 4294967296.0));
}

// p * 2^40 for p = exp(l / T - maxOverT).
uvec2 massOf(float l, float maxOverT) {
    if (isnan(l)) return uvec2(0u);
    float p = exp(l / params.temperature - maxOverT);
    return fromFloat(round(p * 1099511627776.0));
}

bool atLeast(uint v, uint i, uvec2 cut) { return v > cut.x || (v == cut.x && i >= cut.y); }

// The top d bytes of the composite (v, i) equal the prefix.
bool matches(uint v, uint i, uint d, uint pv, uint pi) {
    if (d == 0u) return true;
    if (d <= 4u) return (v >> (32u - 8u * d)) == (pv >> (32u - 8u * d));
    if (v != pv) return false;
    return (i >> (64u - 8u * d)) == (pi >> (64u - 8u * d));
}

uint digit(uint v, uint i, uint d) {
    return d < 4u ? (v >> (24u - 8u * d)) & 255u : (i >> (56u - 8u * d)) & 255u;
}

uvec2 bucketWeight(uint b, bool mass) { return mass ? uvec2(hHi[b], hLo[b]) : uvec2(0u, hCount[b]); }

// Finds, among the elements with composite >= cut, the one where the weights summed in
// sorted order first reach `target`; leaves it in sIndex, the weight before it in sCum, its
// own in sWeight, and sPastEnd = 1 when the target exceeded the set (then sIndex is its
// last element). Called by the whole workgroup.
void search(uvec2 cut, bool mass, uvec2 target, float maxOverT) {
    uint lid = gl_LocalInvocationID.x;
    barrier();  // every invocation has read the previous search's results
    if (lid == 0u) {
        sPrefixV = 0u; sPrefixI = 0u; sFound = 0u; sPastEnd = 0u;
        sCum = uvec2(0u); sWeight = uvec2(0u); sTarget = target; sIndex = 0u;
    }
    barrier();
    for (uint d = 0u; d < 8u; d++) {
        if (sFound != 0u) break;
        for (uint b = lid; b < BUCKETS; b += gl_WorkGroupSize.x) {
            hCount[b] = 0u; hLo[b] = 0u; hHi[b] = 0u; hIndex[b] = NO_INDEX;
        }
        barrier();
        uint pv = sPrefixV, pi = sPrefixI;
        for (uint j = lid; j < pc.count; j += gl_WorkGroupSize.x) {
            float l = logits[j];
            uint v = valueKey(l), i = ~j;
            if (!atLeast(v, i, cut) || !matches(v, i, d, pv, pi)) continue;
            uint b = digit(v, i, d);
            atomicAdd(hCount[b], 1u);
            atomicMin(hIndex[b], j);
            if (mass) {
                uvec2 w = massOf(l, maxOverT);
                uint old = atomicAdd(hLo[b], w.y);
                uint carry = old > 0xFFFFFFFFu - w.y ? 1u : 0u;
                if (w.x + carry != 0u) atomicAdd(hHi[b], w.x + carry);
            }
        }
        barrier();
        if (lid == 0u) {
            uint chosen = NO_INDEX;
            uvec2 before = uvec2(0u);
            if (sPastEnd == 0u) {
                for (int b = int(BUCKETS) - 1; b >= 0; b--) {
                    if (hCount[b] == 0u) continue;
                    uvec2 next = add64(before, bucketWeight(uint(b), mass));
                    if (ge64(next, sTarget)) { chosen = uint(b); break; }
                    before = next;
                }
                if (chosen == NO_INDEX) sPastEnd = 1u;
            }
            if (sPastEnd != 0u) {
                for (uint b = 0u; b < BUCKETS; b++) {
                    if (hCount[b] != 0u) { chosen = b; break; }
                }
            }
            if (chosen == NO_INDEX) {
                // Nothing passed the filter (cannot happen for a non-empty row).
                sFound = 1u;
            } else {
                if (sPastEnd == 0u) {
                    sCum = add64(sCum, before);
                    sTarget = sub64(sTarget, before);
                }
                if (d < 4u) sPrefixV |= chosen << (24u - 8u * d);
                else sPrefixI |= chosen << (56u - 8u * d);
                sWeight = bucketWeight(chosen, mass);
                sIndex = hIndex[chosen];
                if (hCount[chosen] == 1u) sFound = 1u;
            }
        }
        barrier();
    }
}

uvec2 compositeOf(uint index) { return uvec2(valueKey(logits[index]), ~index); }

void main() {
    uint lid = gl_LocalInvocationID.x;
    float temperature = params.temperature;
    uint topK = params.topK;
    bool greedy = temperature <= 0.0 || topK == 1u;
    if (greedy) {
        search(uvec2(0u), false, uvec2(0u, 1u), 0.0);
        if (lid == 0u) result[0] = sIndex;
        return;
    }

    if (lid == 0u) { sMaxKey = 0u; sTotalLo = 0u; sTotalHi = 0u; }
    barrier();
    uint localMax = 0u;
    for (uint j = lid; j < pc.count; j += gl_WorkGroupSize.x) localMax = max(localMax, valueKey(logits[j]));
    atomicMax(sMaxKey, localMax);
    barrier();
    float maxOverT = keyValue(sMaxKey) / temperature;

    // Top-k: the kept set is everything down to the k-th element.
    uvec2 cut = uvec2(0u);
    if (topK > 0u && topK < pc.count) {
        search(uvec2(0u), false, uvec2(0u, topK), maxOverT);
        cut = compositeOf(sIndex);
    }

    // Softmax denominator over the kept set: private exact sums, then one atomic add each.
    uvec2 local = uvec2(0u);
    for (uint j = lid; j < pc.count; j += gl_WorkGroupSize.x) {
        float l = logits[j];
        if (atLeast(valueKey(l), ~j, cut)) local = add64(local, massOf(l, maxOverT));
    }
    uint old = atomicAdd(sTotalLo, local.y);
    uint carry = old > 0xFFFFFFFFu - local.y ? 1u : 0u;
    if (local.x + carry != 0u) atomicAdd(sTotalHi, local.x + carry);
    barrier();
    uvec2 total = uvec2(sTotalHi, sTotalLo);

    // Top-p: the smallest prefix whose mass reaches p of the total (at least one element).
    uvec2 kept = total;
    if (params.topP < 1.0) {
        uvec2 target = scaleBy(total, params.topP, true);
        if (target == uvec2(0u)) target = uvec2(0u, 1u);
        search(cut, true, target, maxOverT);
        if (sPastEnd == 0u) {
            cut = compositeOf(sIndex);
            kept = add64(sCum, sWeight);
        }
    }

    // The draw: the first element whose cumulative mass exceeds u * kept.
    uvec2 target = add64(scaleBy(kept, params.uniformDraw, false), uvec2(0u, 1u));
    search(cut, true, target, maxOverT);
    if (lid == 0u) result[0] = sIndex;
}
