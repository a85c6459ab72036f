#version 450
// Qwen2 rotary embedding (rotate_half / NeoX) and the KV-cache append, for the T tokens at
// positions p0 ..< p0 + T, p0 = pos[0] read on the device so that a recorded decode step
// can be replayed at the next position. For each head, j < hd/2, a = float(p) * inv_freq[j]:
//   x'[j] = x[j] cos a - x[j + hd/2] sin a,   x'[j + hd/2] = x[j + hd/2] cos a + x[j] sin a.
// inv_freq comes from a table computed on the host exactly as transformers does in fp32;
// the product a is one fp32 multiply, as in PyTorch. GPU sin/cos lose accuracy on large
// arguments (a reaches thousands of radians), so the shader reduces a modulo pi/2 in
// extended precision itself and evaluates short polynomials on [-pi/4, pi/4].
//
// rope:    q and k rotated in place.
// rope_kv: q rotated in place; rotated k and the v rows written to cache rows p0 + t.
// Grid-stride over T x (work items per token); one item = one rotated pair or one copied value.
// q, k, v are stored as activations (ACT_F16: fp16), the caches as KV_F16 says; the rotation
// is fp32 arithmetic whatever the storage.
// variant: rope
// variant: rope_a16 ACT_F16
// variant: rope_kv KV
// variant: rope_kv_a16 KV ACT_F16
// variant: rope_kv_c16 KV KV_F16
// variant: rope_kv_a16_c16 KV ACT_F16 KV_F16
#extension GL_GOOGLE_include_directive : require
#include "activation_type.glsl"
#include "kv_type.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer Q { ACT_T q[]; };              // [T][heads * hd]
layout(std430, binding = 1) buffer K { ACT_T k[]; };              // [T][kvHeads * hd]
layout(std430, binding = 2) readonly buffer V { ACT_T v[]; };     // [T][kvHeads * hd]
layout(std430, binding = 3) writeonly buffer KC { KV_T kCache[]; };  // [capacity][kvHeads * hd]
layout(std430, binding = 4) writeonly buffer VC { KV_T vCache[]; };
layout(std430, binding = 5) readonly buffer Pos { uint pos[]; };
layout(std430, binding = 6) readonly buffer Freq { float invFreq[]; };  // [hd / 2]

layout(push_constant) uniform Push {
    uint tokens;
    uint heads;
    uint kvHeads;
    uint headDim;
    uint capacity;  // cache rows (KV variants)
} pc;

// x = n * pi/2 + r with pi/2 = C1 + C2 + C3 (Cody & Waite): C1 and C2 have at most 9
// significant bits, so n * C1 and n * C2 are exact for n < 2^15 (angles up to ~51000 rad).
const float TWO_OVER_PI = 0.636619772367581;
const float PIO2_1 = 1.5703125;
const float PIO2_2 = 4.8351287841796875e-4;
const float PIO2_3 = 3.1391647326017846e-7;

// sin and cos of x to a few ulp (Cephes single-precision polynomials on [-pi/4, pi/4]).
void sin_cos(float x, out float s, out float c) {
    float n = round(x * TWO_OVER_PI);
    precise float r = x - n * PIO2_1;
    r = r - n * PIO2_2;
    r = r - n * PIO2_3;
    float z = r * r;
    float sr = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
    float cr = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
    int quadrant = int(n) & 3;
    if (quadrant == 0) { s = sr; c = cr; }
    else if (quadrant == 1) { s = cr; c = -sr; }
    else if (quadrant == 2) { s = -sr; c = -cr; }
    else { s = -cr; c = sr; }
}

// Pair (a, b) = (x[j], x[j + hd/2]) rotated for position p.
vec2 rotate(float a, float b, uint p, uint j) {
    float sn, cs;
    sin_cos(float(p) * invFreq[j], sn, cs);
    return vec2(a * cs - b * sn, b * cs + a * sn);
}

void main() {
    uint p0 = pos[0];
    uint hd = pc.headDim, half_ = hd / 2;
    uint qWidth = pc.heads * hd, kvWidth = pc.kvHeads * hd;
    uint rotations = (pc.heads + pc.kvHeads) * half_;
#ifdef KV
    uint copies = kvWidth;       // the v values
#else
    uint copies = 0;
#endif
    uint perToken = rotations + copies;
    uint total = pc.tokens * perToken;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
        uint t = i / perToken, w = i % perToken;
        uint p = p0 + t;
#ifdef KV
        bool fits = p < pc.capacity;
#endif
        if (w < pc.heads * half_) {
            uint base = t * qWidth + (w / half_) * hd, j = w % half_;
            vec2 r = rotate(float(q[base + j]), float(q[base + j + half_]), p, j);
            q[base + j] = ACT_T(r.x);
            q[base + j + half_] = ACT_T(r.y);
            continue;
        }
        if (w < rotations) {
            uint kw = w - pc.heads * half_;
            uint col = (kw / half_) * hd, j = kw % half_;
            uint base = t * kvWidth + col;
            vec2 r = rotate(float(k[base + j]), float(k[base + j + half_]), p, j);
#ifdef KV
            if (fits) {
                kCache[p * kvWidth + col + j] = KV_T(r.x);
                kCache[p * kvWidth + col + j + half_] = KV_T(r.y);
            }
#else
            k[base + j] = ACT_T(r.x);
            k[base + j + half_] = ACT_T(r.y);
#endif
            continue;
        }
#ifdef KV
        uint e = w - rotations;
        if (fits) vCache[p * kvWidth + e] = KV_T(float(v[t * kvWidth + e]));
#endif
    }
}
