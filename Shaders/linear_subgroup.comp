#version 450
// Y = act(X W^T + b), W [N][K], K a multiple of 4. Register-blocked over subgroups:
// a subgroup owns MR rows x (subgroupSize * NR) columns; each lane loads one vec4 of every
// X row and the lanes share them with subgroupShuffle, while each lane streams its own
// NR weight rows four values at a time (64-bit fp16/bf16 or 128-bit fp32 loads; one
// 32-bit word of q8 codes or half a word of q4 codes and the block's scale, dequantized
// to fp32: Shaders/include/weight_load.glsl). Tiles are walked in a
// grid-stride loop computed from the real gl_SubgroupSize, so any subgroup size is correct.
// variant: linear_subgroup_f16 WEIGHT_F16
// variant: linear_subgroup_f16_a16 WEIGHT_F16 ACT_F16
// variant: linear_subgroup_f32 WEIGHT_F32
// variant: linear_subgroup_f32_a16 WEIGHT_F32 ACT_F16
// variant: linear_subgroup_bf16 WEIGHT_BF16
// variant: linear_subgroup_bf16_a16 WEIGHT_BF16 ACT_F16
// variant: linear_subgroup_q8 WEIGHT_Q8
// variant: linear_subgroup_q8_a16 WEIGHT_Q8 ACT_F16
// variant: linear_subgroup_q4 WEIGHT_Q4
// variant: linear_subgroup_q4_a16 WEIGHT_Q4 ACT_F16
// variant: linear_subgroup_f16_a16_out32 WEIGHT_F16 ACT_F16 OUT_F32
// variant: linear_subgroup_f32_a16_out32 WEIGHT_F32 ACT_F16 OUT_F32
// variant: linear_subgroup_bf16_a16_out32 WEIGHT_BF16 ACT_F16 OUT_F32
// variant: linear_subgroup_q8_a16_out32 WEIGHT_Q8 ACT_F16 OUT_F32
// variant: linear_subgroup_q4_a16_out32 WEIGHT_Q4 ACT_F16 OUT_F32
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
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

#define MR 8
#define NR 4

void main() {
    uint sg = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
    uint K4 = pc.K / 4;
    uint rowBytes = w_row_bytes(pc.K);
    uint cols = sg * NR;
    uint tilesN = (pc.N + cols - 1) / cols, tilesM = (pc.M + MR - 1) / MR;
    uint first = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
    uint stride = gl_NumWorkGroups.x * gl_NumSubgroups;
    for (uint tile = first; tile < tilesN * tilesM; tile += stride) {
        uint m0 = (tile / tilesN) * MR;
        uint nb = (tile % tilesN) * cols + lane;
        uint xrow[MR], wrow[NR];
        for (uint i = 0; i < MR; i++) xrow[i] = min(m0 + i, pc.M - 1) * K4;
        for (uint r = 0; r < NR; r++) wrow[r] = min(nb + r * sg, pc.N - 1) * rowBytes;
        float acc[MR][NR];
        for (uint i = 0; i < MR; i++) for (uint r = 0; r < NR; r++) acc[i][r] = 0.0;

        for (uint k4 = 0; k4 < K4; k4 += sg) {
            uint mine = k4 + lane;
            vec4 xv[MR];
            for (uint i = 0; i < MR; i++) xv[i] = mine < K4 ? vec4(x4[xrow[i] + mine]) : vec4(0.0);
            uint steps = min(sg, K4 - k4);
            for (uint j = 0; j < steps; j++) {
                vec4 wv[NR];
                for (uint r = 0; r < NR; r++) wv[r] = w_load4(wrow[r], 4 * (k4 + j), pc.K);
                for (uint i = 0; i < MR; i++) {
                    vec4 xj = subgroupShuffle(xv[i], j);
                    for (uint r = 0; r < NR; r++) acc[i][r] += dot(xj, wv[r]);
                }
            }
        }
        for (uint i = 0; i < MR; i++) {
            uint m = m0 + i;
            if (m >= pc.M) break;
            for (uint r = 0; r < NR; r++) {
                uint n = nb + r * sg;
                if (n < pc.N) y[m * pc.ldy + pc.n0 + n] = OUT_T(linear_epilogue(acc[i][r], m, n));
            }
        }
    }
}
