#version 450
// Dense k x k convolution (groups 1) on HWC maps as an implicit GEMM on the tiled GEMM core
// (Shaders/include/tiled_gemm.glsl), zero padding k/2, stride S:
//   Y[oy*OW + ox][o] = epilogue(sum_{ky,kx,c} W[o][(ky*k + kx)*C_in + c] x[oy*S + ky - k/2][ox*S + kx - k/2][c])
// M = output pixels, N = C_out, K = k*k*C_in: the "X row" of an output pixel is gathered from
// the input map while the tile loads (no im2col buffer). Weights are a LinearWeight
// [C_out][k][k][C_in] in fp32 or fp16. Four K values of one tap are one vec4 load when
// C_in % 4 == 0; otherwise scalar loads.
// variant: conv2d_gemm_f32 WEIGHT_F32
// variant: conv2d_gemm_f16 WEIGHT_F16
// variant: conv2d_gemm_f32_a16 WEIGHT_F32 ACT_F16
// variant: conv2d_gemm_f16_a16 WEIGHT_F16 ACT_F16
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "activation_type.glsl"

// linear_push.glsl's fields, then the map: input h x w x cin, output width ow, kernel side, stride.
layout(push_constant) uniform Push {
    uint M; uint N; uint K; uint n0; uint ldy; uint hasBias; uint act; uint hasResidual; uint hasScale;
    uint h; uint w; uint cin; uint ow; uint kernel; uint stride;
} pc;
#define ACT_NONE 0u
#define ACT_GELU 1u
#define ACT_SILU 2u

layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
layout(std430, binding = 0) readonly buffer X4 { ACT_VEC4 x4[]; };
#define WEIGHT_BINDING 1
#include "weight_load.glsl"
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { ACT_T y[]; };
layout(std430, binding = 4) readonly buffer Residual { ACT_T residual[]; };
layout(std430, binding = 5) readonly buffer Scale { float scale[]; };
#include "linear_epilogue.glsl"

// Input value of output pixel (oy, ox) at K index k, 0 in the padding; as the map's index or -1.
int tap_index(uint oy, uint ox, uint k) {
    uint tap = k / pc.cin, c = k % pc.cin;
    int iy = int(oy * pc.stride + tap / pc.kernel) - int(pc.kernel / 2u);
    int ix = int(ox * pc.stride + tap % pc.kernel) - int(pc.kernel / 2u);
    if (iy < 0 || iy >= int(pc.h) || ix < 0 || ix >= int(pc.w)) return -1;
    return int((uint(iy) * pc.w + uint(ix)) * pc.cin + c);
}

vec4 load_x(uint m, uint k, bool vecK) {
    vec4 v = vec4(0.0);
    if (m >= pc.M) return v;
    uint oy = m / pc.ow, ox = m % pc.ow;
    if ((pc.cin & 3u) == 0u) {
        // k % 4 == 0 and C_in % 4 == 0: the four values are channels c..c+3 of one tap.
        int i = k < pc.K ? tap_index(oy, ox, k) : -1;
        return i < 0 ? v : vec4(x4[uint(i) >> 2]);
    }
    for (uint j = 0; j < 4; j++) {
        int i = k + j < pc.K ? tap_index(oy, ox, k + j) : -1;
        if (i >= 0) v[j] = float(x[uint(i)]);
    }
    return v;
}

#include "tiled_gemm.glsl"
