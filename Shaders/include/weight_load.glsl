// Weight loads for every WeightFormat (Sources/Ops/Linear/WeightFormat.swift), the one place
// a format is defined on the GPU. Define one of WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16,
// WEIGHT_Q8, WEIGHT_Q4 and WEIGHT_BINDING before including. A [N][K] weight is stored row
// by row, w_row_bytes(K) bytes a row; every function takes the byte offset of its row
// (row * w_row_bytes(K)) inside the bound range, so row slices and row parts just work.
//   q8: [K int8 codes][K/32 fp16 scales d] padded to 16 bytes, w = d * q.
//   q4: [K/2 bytes of 4-bit codes, code i of a word in bits 4i..4i+3][K/64 (s, m) fp16
//       pairs] padded to 16 bytes, w = s * q + m.
// Arithmetic is fp32. The same binding is seen as uint, uvec2 and uvec4 arrays so that each
// path uses the widest load its alignment allows.
//
// Provided:
//   uint  w_row_bytes(uint K)
//   float w_load1(uint rowByte, uint k, uint K)    one value, any k (and any K for f32/f16/bf16)
//   vec4  w_load4(uint rowByte, uint k, uint K)    values k..k+3, k % 4 == 0, K % 4 == 0
//   W_CHUNK, W_RAW, w_chunk_raw(rowByte, c)        the c-th run of W_CHUNK values, as stored:
//                                                  one 16-byte load (8 bytes for f16/bf16)
//   float w_chunk_dot(W_RAW raw, vec4 x[W_CHUNK4]) sum of the stored codes times x (unscaled)
//   vec2  w_chunk_scale(rowByte, c, K)             (scale, minimum) of that run (W_QUANT only)
// With W_QUANT a run's contribution is scale * w_chunk_dot + minimum * sum(x) (W_AFFINE:
// the minimum term exists only for q4).
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightWords { uint w_u1[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightPairs { uvec2 w_u2[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightQuads { uvec4 w_u4[]; };

uint w_pad16(uint n) { return (n + 15u) & ~15u; }

// The 16-bit value at an even byte offset.
uint w_half_bits(uint byteOffset) { return (w_u1[byteOffset >> 2] >> ((byteOffset & 2u) * 8u)) & 0xFFFFu; }
float w_half(uint byteOffset) { return unpackHalf2x16(w_half_bits(byteOffset)).x; }
// bf16 is the top half of an fp32: exact.
float bf16_lo(uint word) { return uintBitsToFloat(word << 16); }
float bf16_hi(uint word) { return uintBitsToFloat(word & 0xFFFF0000u); }
// Four signed 8-bit codes of a word, byte i = value i.
vec4 q8_codes(uint word) { return vec4(ivec4(int(word << 24), int(word << 16), int(word << 8), int(word)) >> 24); }
// Four 4-bit codes of a word starting at nibble `first` (0 or 4).
vec4 q4_codes(uint word, uint first) {
    uint s = first * 4u;
    return vec4((uvec4(word >> s, word >> (s + 4u), word >> (s + 8u), word >> (s + 12u))) & 15u);
}

#if defined(WEIGHT_F32)
uint w_row_bytes(uint K) { return K * 4u; }
float w_load1(uint rowByte, uint k, uint K) { return uintBitsToFloat(w_u1[(rowByte >> 2) + k]); }
vec4 w_load4(uint rowByte, uint k, uint K) { return uintBitsToFloat(w_u4[(rowByte >> 4) + (k >> 2)]); }
#elif defined(WEIGHT_F16)
uint w_row_bytes(uint K) { return K * 2u; }
float w_load1(uint rowByte, uint k, uint K) { return w_half(rowByte + 2u * k); }
vec4 w_load4(uint rowByte, uint k, uint K) {
    uvec2 v = w_u2[(rowByte >> 3) + (k >> 2)];
    return vec4(unpackHalf2x16(v.x), unpackHalf2x16(v.y));
}
#elif defined(WEIGHT_BF16)
uint w_row_bytes(uint K) { return K * 2u; }
float w_load1(uint rowByte, uint k, uint K) { return uintBitsToFloat(w_half_bits(rowByte + 2u * k) << 16); }
vec4 w_load4(uint rowByte, uint k, uint K) {
    uvec2 v = w_u2[(rowByte >> 3) + (k >> 2)];
    return vec4(bf16_lo(v.x), bf16_hi(v.x), bf16_lo(v.y), bf16_hi(v.y));
}
#elif defined(WEIGHT_Q8)
#define W_QUANT
uint w_row_bytes(uint K) { return w_pad16(K + K / 16u); }
float q8_scale(uint rowByte, uint k, uint K) { return w_half(rowByte + K + 2u * (k >> 5)); }
float w_load1(uint rowByte, uint k, uint K) {
    uint b = rowByte + k;
    int code = int(w_u1[b >> 2] << (24u - 8u * (b & 3u))) >> 24;
    return q8_scale(rowByte, k, K) * float(code);
}
vec4 w_load4(uint rowByte, uint k, uint K) { return q8_scale(rowByte, k, K) * q8_codes(w_u1[(rowByte + k) >> 2]); }
// 16 codes (half a block) per 16-byte load.
#define W_CHUNK 16u
#define W_CHUNK4 4
#define W_RAW uvec4
W_RAW w_chunk_raw(uint rowByte, uint c) { return w_u4[(rowByte >> 4) + c]; }
vec2 w_chunk_scale(uint rowByte, uint c, uint K) { return vec2(w_half(rowByte + K + 2u * (c >> 1)), 0.0); }
float w_chunk_dot(W_RAW raw, vec4 x[W_CHUNK4]) {
    return dot(q8_codes(raw.x), x[0]) + dot(q8_codes(raw.y), x[1]) + dot(q8_codes(raw.z), x[2]) + dot(q8_codes(raw.w), x[3]);
}
#elif defined(WEIGHT_Q4)
#define W_QUANT
#define W_AFFINE
uint w_row_bytes(uint K) { return w_pad16(K / 2u + K / 16u); }
// (s, m) of the group holding value k.
vec2 q4_scale(uint rowByte, uint k, uint K) { return unpackHalf2x16(w_u1[(rowByte + K / 2u + 4u * (k >> 6)) >> 2]); }
float w_load1(uint rowByte, uint k, uint K) {
    uint code = (w_u1[(rowByte >> 2) + (k >> 3)] >> (4u * (k & 7u))) & 15u;
    vec2 sm = q4_scale(rowByte, k, K);
    return sm.x * float(code) + sm.y;
}
vec4 w_load4(uint rowByte, uint k, uint K) {
    vec2 sm = q4_scale(rowByte, k, K);
    return sm.x * q4_codes(w_u1[(rowByte >> 2) + (k >> 3)], k & 4u) + sm.y;
}
// 32 codes (half a group) per 16-byte load.
#define W_CHUNK 32u
#define W_CHUNK4 8
#define W_RAW uvec4
W_RAW w_chunk_raw(uint rowByte, uint c) { return w_u4[(rowByte >> 4) + c]; }
vec2 w_chunk_scale(uint rowByte, uint c, uint K) { return q4_scale(rowByte, c * W_CHUNK, K); }
float w_chunk_dot(W_RAW raw, vec4 x[W_CHUNK4]) {
    return dot(q4_codes(raw.x, 0u), x[0]) + dot(q4_codes(raw.x, 4u), x[1]) + dot(q4_codes(raw.y, 0u), x[2]) + dot(q4_codes(raw.y, 4u), x[3])
         + dot(q4_codes(raw.z, 0u), x[4]) + dot(q4_codes(raw.z, 4u), x[5]) + dot(q4_codes(raw.w, 0u), x[6]) + dot(q4_codes(raw.w, 4u), x[7]);
}
#else
#error "define one of WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8, WEIGHT_Q4"
#endif

#ifndef W_QUANT
// Float formats: a run is one w_load4 (a 16-byte fp32 or 8-byte fp16/bf16 load), already values.
#define W_CHUNK 4u
#define W_CHUNK4 1
#define W_RAW vec4
W_RAW w_chunk_raw(uint rowByte, uint c) { return w_load4(rowByte, c * 4u, 0u); }
float w_chunk_dot(W_RAW raw, vec4 x[W_CHUNK4]) { return dot(raw, x[0]); }
#endif
