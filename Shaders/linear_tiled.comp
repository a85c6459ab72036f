#version 450
// Y[m, n0+n] = act(X[m,:] . W[n,:] + b[n0+n]) with W stored [N][K] (PyTorch Linear layout).
// Register-blocked SIMT GEMM for GPUs (Shaders/include/tiled_gemm.glsl): 64 or 128 tile sides,
// 8 x 8 outputs per invocation at 128 x 128, double-buffered shared memory.
// Loads are vec4 along K when K % 4 == 0 (always for q8/q4), scalar otherwise; edges are
// zero-filled, so any M, N, K runs. Weights in any format of Shaders/include/weight_load.glsl,
// dequantized to fp32 while loading.
// variant: linear_tiled_f16 WEIGHT_F16
// variant: linear_tiled_f16_a16 WEIGHT_F16 ACT_F16
// variant: linear_tiled_f32 WEIGHT_F32
// variant: linear_tiled_f32_a16 WEIGHT_F32 ACT_F16
// variant: linear_tiled_bf16 WEIGHT_BF16
// variant: linear_tiled_bf16_a16 WEIGHT_BF16 ACT_F16
// variant: linear_tiled_q8 WEIGHT_Q8
// variant: linear_tiled_q8_a16 WEIGHT_Q8 ACT_F16
// variant: linear_tiled_q4 WEIGHT_Q4
// variant: linear_tiled_q4_a16 WEIGHT_Q4 ACT_F16
// variant: linear_tiled_f16_a16_out32 WEIGHT_F16 ACT_F16 OUT_F32
// variant: linear_tiled_f32_a16_out32 WEIGHT_F32 ACT_F16 OUT_F32
// variant: linear_tiled_bf16_a16_out32 WEIGHT_BF16 ACT_F16 OUT_F32
// variant: linear_tiled_q8_a16_out32 WEIGHT_Q8 ACT_F16 OUT_F32
// variant: linear_tiled_q4_a16_out32 WEIGHT_Q4 ACT_F16 OUT_F32
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "activation_type.glsl"
#include "linear_push.glsl"

layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
layout(std430, binding = 0) readonly buffer X4 { ACT_VEC4 x4[]; };
#define WEIGHT_BINDING 1
#include "weight_load.glsl"
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { OUT_T y[]; };
layout(std430, binding = 4) readonly buffer Residual { OUT_T residual[]; };
layout(std430, binding = 5) readonly buffer Scale { float scale[]; };
#include "linear_epilogue.glsl"

// Four consecutive K values of X row m from k (zeros past M or K).
vec4 load_x(uint m, uint k, bool vecK) {
    if (m >= pc.M) return vec4(0.0);
    if (vecK) return k < pc.K ? vec4(x4[(m * pc.K + k) >> 2]) : vec4(0.0);
    vec4 v;
    for (uint i = 0; i < 4; i++) v[i] = k + i < pc.K ? float(x[m * pc.K + k + i]) : 0.0;
    return v;
}

#include "tiled_gemm.glsl"
