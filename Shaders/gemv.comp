#version 450
// Decode GEMV: Y[m, n0+n] = act(X[m,:] . W[n,:] + b) for M <= 8 rows, K a multiple of 4
// (of the block size for quantized weights). Each subgroup owns NR weight rows at a time; its
// lanes stride over K in runs of W_CHUNK values, one wide load each (16 bytes of codes for
// q8/q4, with one scale per run; 8 or 16 bytes for f16/bf16/f32), so every weight byte is
// read once, and one subgroupAdd per output finishes the dot product: no shared memory, no
// barriers. Row blocks are walked in a grid-stride loop over the real subgroup count, so any
// subgroup size is correct. Weight formats: Shaders/include/weight_load.glsl.
// SWIGLU_INPUT: each row of X is the stacked [gate | up] output of the gate/up GEMV (2K
// wide) and the dot product runs over silu(gate) * up, so decode needs no SwiGLU dispatch.
// NORM_INPUT: X is the un-normalised row and the GEMV applies the RMSNorm that precedes it
// (Qwen2's input / post-attention / final norms): every subgroup sums the squares of its
// rows of X itself (K values: cheap beside the weight rows it reads), loads X times the norm
// weight, and scales each dot product by 1 / sqrt(mean(x^2) + eps). That saves the norm's
// dispatch, its barrier and the normalised row.
// OUT_F32 / IN_F32 (Shaders/include/activation_type.glsl): fp32 Y and residual over fp16 X
// (o_proj and down_proj adding into the decoder's fp32 residual stream; the LM head writing
// fp32 logits), or fp16 Y over fp32 X (the folded-norm projections reading that stream).
// variant: gemv_f16 WEIGHT_F16
// variant: gemv_f16_swiglu WEIGHT_F16 SWIGLU_INPUT
// variant: gemv_f16_a16 WEIGHT_F16 ACT_F16
// variant: gemv_f16_a16_swiglu WEIGHT_F16 ACT_F16 SWIGLU_INPUT
// variant: gemv_f32 WEIGHT_F32
// variant: gemv_f32_swiglu WEIGHT_F32 SWIGLU_INPUT
// variant: gemv_f32_a16 WEIGHT_F32 ACT_F16
// variant: gemv_f32_a16_swiglu WEIGHT_F32 ACT_F16 SWIGLU_INPUT
// variant: gemv_bf16 WEIGHT_BF16
// variant: gemv_bf16_swiglu WEIGHT_BF16 SWIGLU_INPUT
// variant: gemv_bf16_a16 WEIGHT_BF16 ACT_F16
// variant: gemv_bf16_a16_swiglu WEIGHT_BF16 ACT_F16 SWIGLU_INPUT
// variant: gemv_q8 WEIGHT_Q8
// variant: gemv_q8_swiglu WEIGHT_Q8 SWIGLU_INPUT
// variant: gemv_q8_a16 WEIGHT_Q8 ACT_F16
// variant: gemv_q8_a16_swiglu WEIGHT_Q8 ACT_F16 SWIGLU_INPUT
// variant: gemv_q4 WEIGHT_Q4
// variant: gemv_q4_swiglu WEIGHT_Q4 SWIGLU_INPUT
// variant: gemv_q4_a16 WEIGHT_Q4 ACT_F16
// variant: gemv_q4_a16_swiglu WEIGHT_Q4 ACT_F16 SWIGLU_INPUT
// variant: gemv_f16_norm WEIGHT_F16 NORM_INPUT
// variant: gemv_f16_a16_norm WEIGHT_F16 ACT_F16 NORM_INPUT
// variant: gemv_f32_norm WEIGHT_F32 NORM_INPUT
// variant: gemv_f32_a16_norm WEIGHT_F32 ACT_F16 NORM_INPUT
// variant: gemv_bf16_norm WEIGHT_BF16 NORM_INPUT
// variant: gemv_bf16_a16_norm WEIGHT_BF16 ACT_F16 NORM_INPUT
// variant: gemv_q8_norm WEIGHT_Q8 NORM_INPUT
// variant: gemv_q8_a16_norm WEIGHT_Q8 ACT_F16 NORM_INPUT
// variant: gemv_q4_norm WEIGHT_Q4 NORM_INPUT
// variant: gemv_q4_a16_norm WEIGHT_Q4 ACT_F16 NORM_INPUT
// variant: gemv_f16_a16_norm_out32 WEIGHT_F16 ACT_F16 NORM_INPUT OUT_F32
// variant: gemv_f32_a16_norm_out32 WEIGHT_F32 ACT_F16 NORM_INPUT OUT_F32
// variant: gemv_bf16_a16_norm_out32 WEIGHT_BF16 ACT_F16 NORM_INPUT OUT_F32
// variant: gemv_q8_a16_norm_out32 WEIGHT_Q8 ACT_F16 NORM_INPUT OUT_F32
// variant: gemv_q4_a16_norm_out32 WEIGHT_Q4 ACT_F16 NORM_INPUT OUT_F32
// variant: gemv_f16_a16_out32 WEIGHT_F16 ACT_F16 OUT_F32
// variant: gemv_f32_a16_out32 WEIGHT_F32 ACT_F16 OUT_F32
// variant: gemv_bf16_a16_out32 WEIGHT_BF16 ACT_F16 OUT_F32
// variant: gemv_q8_a16_out32 WEIGHT_Q8 ACT_F16 OUT_F32
// variant: gemv_q4_a16_out32 WEIGHT_Q4 ACT_F16 OUT_F32
// variant: gemv_f16_a16_swiglu_out32 WEIGHT_F16 ACT_F16 SWIGLU_INPUT OUT_F32
// variant: gemv_f32_a16_swiglu_out32 WEIGHT_F32 ACT_F16 SWIGLU_INPUT OUT_F32
// variant: gemv_bf16_a16_swiglu_out32 WEIGHT_BF16 ACT_F16 SWIGLU_INPUT OUT_F32
// variant: gemv_q8_a16_swiglu_out32 WEIGHT_Q8 ACT_F16 SWIGLU_INPUT OUT_F32
// variant: gemv_q4_a16_swiglu_out32 WEIGHT_Q4 ACT_F16 SWIGLU_INPUT OUT_F32
// variant: gemv_f16_a16_norm_in32 WEIGHT_F16 ACT_F16 NORM_INPUT IN_F32
// variant: gemv_f32_a16_norm_in32 WEIGHT_F32 ACT_F16 NORM_INPUT IN_F32
// variant: gemv_bf16_a16_norm_in32 WEIGHT_BF16 ACT_F16 NORM_INPUT IN_F32
// variant: gemv_q8_a16_norm_in32 WEIGHT_Q8 ACT_F16 NORM_INPUT IN_F32
// variant: gemv_q4_a16_norm_in32 WEIGHT_Q4 ACT_F16 NORM_INPUT IN_F32
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"
#include "activation_type.glsl"
#include "linear_push.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { ACT_VEC4 x4[]; };
#define WEIGHT_BINDING 1
#include "weight_load.glsl"
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { OUT_T y[]; };
layout(std430, binding = 4) readonly buffer Residual { OUT_T residual[]; };
layout(std430, binding = 5) readonly buffer Scale { float scale[]; };
#include "linear_epilogue.glsl"

// Rows of X, fixed per pipeline so the accumulators stay in registers (a dynamic bound
// would index them dynamically and spill them to memory).
layout(constant_id = 1) const uint MROWS = 1;
#define NR 4

#ifdef NORM_INPUT
layout(std430, binding = 6) readonly buffer NormWeight { vec4 normWeight4[]; };
layout(constant_id = 2) const float NORM_EPS = 1e-6;
#endif

// Four consecutive inputs of row m at k (in vec4s), in fp32.
#ifdef SWIGLU_INPUT
// Recomputed for every row block: the exp is cheap next to the weight loads of a
// memory-bound GEMV, and it saves a dispatch, a barrier and the [M][K] intermediate.
vec4 load_x4(uint m, uint k, uint K4) {
    uint g = m * 2u * K4 + k;
    vec4 gate = vec4(x4[g]);
    return vec4(silu(gate.x), silu(gate.y), silu(gate.z), silu(gate.w)) * vec4(x4[g + K4]);
}
#elif defined(NORM_INPUT)
vec4 load_x4(uint m, uint k, uint K4) { return vec4(x4[m * K4 + k]) * normWeight4[k]; }
#else
vec4 load_x4(uint m, uint k, uint K4) { return vec4(x4[m * K4 + k]); }
#endif

void main() {
    uint K4 = pc.K / 4;
    uint chunks = pc.K / W_CHUNK;
    uint rowBytes = w_row_bytes(pc.K);
    uint blocks = (pc.N + NR - 1) / NR;
    uint first = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * gl_NumSubgroups + gl_SubgroupID;
    uint stride = gl_NumWorkGroups.x * gl_NumWorkGroups.y * gl_NumSubgroups;
#ifdef NORM_INPUT
    float rowScale[MROWS];
    for (uint m = 0; m < MROWS; m++) {
        float ss = 0.0;
        for (uint k = gl_SubgroupInvocationID; k < K4; k += gl_SubgroupSize) {
            vec4 v = vec4(x4[m * K4 + k]);
            ss += dot(v, v);
        }
        rowScale[m] = inversesqrt(subgroupAdd(ss) / float(pc.K) + NORM_EPS);
    }
#endif
    for (uint block = first; block < blocks; block += stride) {
        uint nb = block * NR;
        uint wrow[NR];
        for (uint r = 0; r < NR; r++) wrow[r] = min(nb + r, pc.N - 1) * rowBytes;
        float acc[MROWS][NR];
        for (uint m = 0; m < MROWS; m++) for (uint r = 0; r < NR; r++) acc[m][r] = 0.0;
        for (uint c = gl_SubgroupInvocationID; c < chunks; c += gl_SubgroupSize) {
            W_RAW wv[NR];
            for (uint r = 0; r < NR; r++) wv[r] = w_chunk_raw(wrow[r], c);
#ifdef W_QUANT
            vec2 ws[NR];
            for (uint r = 0; r < NR; r++) ws[r] = w_chunk_scale(wrow[r], c, pc.K);
#endif
            for (uint m = 0; m < MROWS; m++) {
                vec4 xv[W_CHUNK4];
                for (uint i = 0; i < W_CHUNK4; i++) xv[i] = load_x4(m, c * W_CHUNK4 + i, K4);
#ifdef W_AFFINE
                vec4 xs4 = xv[0];
                for (uint i = 1; i < W_CHUNK4; i++) xs4 += xv[i];
                float xsum = dot(xs4, vec4(1.0));
#endif
                for (uint r = 0; r < NR; r++) {
#if defined(W_AFFINE)
                    acc[m][r] += ws[r].x * w_chunk_dot(wv[r], xv) + ws[r].y * xsum;
#elif defined(W_QUANT)
                    acc[m][r] += ws[r].x * w_chunk_dot(wv[r], xv);
#else
                    acc[m][r] += w_chunk_dot(wv[r], xv);
#endif
                }
            }
        }
        for (uint m = 0; m < MROWS; m++) {
            for (uint r = 0; r < NR; r++) {
                float s = subgroupAdd(acc[m][r]);
#ifdef NORM_INPUT
                s *= rowScale[m];
#endif
                uint n = nb + r;
                if (subgroupElect() && n < pc.N) y[m * pc.ldy + pc.n0 + n] = OUT_T(linear_epilogue(s, m, n));
            }
        }
    }
}
