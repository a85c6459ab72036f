#version 450
// Y[m, n0+n] = act(X[m,:] . W[n,:] + b[n0+n]) on tensor cores (GL_NV_cooperative_matrix:
// Debian 12's glslang has no GL_KHR_cooperative_matrix). fp16 A and B, fp32 accumulation.
// A workgroup is WARPS_M x WARPS_N subgroups; each subgroup owns 2 x 2 cooperative tiles of
// the device's CM x CN x CK shape (specialization constants, chosen on the host from the
// shapes the device reports; never assumed 16 x 16 x 16). Per K step of BK, X and W are
// converted (W dequantized) to fp16 into padded shared tiles, then each subgroup multiplies
// its tiles. Results go through a per-subgroup fp32 staging tile so the usual epilogue (bias,
// activation, scale, residual, fp32 or fp16 store) and the M / N edges are handled per element.
// Needs K % 4 == 0 (vec4 loads); fp32 inputs beyond the fp16 range would overflow. glslang
// declares the Vulkan memory model for NV cooperative matrices (gl_ScopeSubgroup needs
// GL_KHR_memory_scope_semantics), so the device enables vulkanMemoryModel with the extension.
// variant: linear_coopmat_f16 WEIGHT_F16
// variant: linear_coopmat_f16_a16 WEIGHT_F16 ACT_F16
// variant: linear_coopmat_f32 WEIGHT_F32
// variant: linear_coopmat_f32_a16 WEIGHT_F32 ACT_F16
// variant: linear_coopmat_bf16 WEIGHT_BF16
// variant: linear_coopmat_bf16_a16 WEIGHT_BF16 ACT_F16
// variant: linear_coopmat_q8 WEIGHT_Q8
// variant: linear_coopmat_q8_a16 WEIGHT_Q8 ACT_F16
// variant: linear_coopmat_q4 WEIGHT_Q4
// variant: linear_coopmat_q4_a16 WEIGHT_Q4 ACT_F16
// variant: linear_coopmat_f16_a16_out32 WEIGHT_F16 ACT_F16 OUT_F32
// variant: linear_coopmat_f32_a16_out32 WEIGHT_F32 ACT_F16 OUT_F32
// variant: linear_coopmat_bf16_a16_out32 WEIGHT_BF16 ACT_F16 OUT_F32
// variant: linear_coopmat_q8_a16_out32 WEIGHT_Q8 ACT_F16 OUT_F32
// variant: linear_coopmat_q4_a16_out32 WEIGHT_Q4 ACT_F16 OUT_F32
#extension GL_GOOGLE_include_directive : require
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#include "common.glsl"
#include "activation_type.glsl"
#include "linear_push.glsl"

// Ids match LinearOp's specialization list (Sources/Ops/Linear/GEMMTiles.swift).
layout(constant_id = 0) const uint LOCAL = 128;    // WARPS_M * WARPS_N * subgroup size
layout(constant_id = 1) const uint CM = 16;
layout(constant_id = 2) const uint CN = 16;
layout(constant_id = 3) const uint CK = 16;
layout(constant_id = 4) const uint WARPS_M = 2;
layout(constant_id = 5) const uint WARPS_N = 2;
layout(constant_id = 6) const uint BK = 32;        // a multiple of CK and of 4
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X4 { ACT_VEC4 x4[]; };
#define WEIGHT_BINDING 1
#include "weight_load.glsl"
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { OUT_T y[]; };
layout(std430, binding = 4) readonly buffer Residual { OUT_T residual[]; };
layout(std430, binding = 5) readonly buffer Scale { float scale[]; };
#include "linear_epilogue.glsl"

const uint BM = WARPS_M * 2 * CM, BN = WARPS_N * 2 * CN;
// Rows padded by 8 halves (16 bytes): loads stay 16-byte aligned and rows start on
// different banks.
const uint SK = BK + 8;
shared float16_t As[BM * SK];   // [row m][k]
shared float16_t Bs[BN * SK];   // [row n][k]: B = W^T read column-major
shared float Cs[WARPS_M * WARPS_N * CM * CN];

#define MatA fcoopmatNV<16, gl_ScopeSubgroup, CM, CK>
#define MatB fcoopmatNV<16, gl_ScopeSubgroup, CK, CN>
#define MatC fcoopmatNV<32, gl_ScopeSubgroup, CM, CN>

void main() {
    uint t = gl_LocalInvocationID.x;
    uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
    uint warpM = warp / WARPS_N, warpN = warp % WARPS_N;
    uint nTile = gl_WorkGroupID.x * BN, mTile = gl_WorkGroupID.y * BM;
    uint rowBytes = w_row_bytes(pc.K);

    MatC acc[2][2];
    for (uint i = 0; i < 2; i++) for (uint j = 0; j < 2; j++) acc[i][j] = MatC(0.0);

    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
        for (uint e = t; e < BM * BK / 4; e += LOCAL) {
            uint row = e / (BK / 4), kk = (e % (BK / 4)) * 4, m = mTile + row, k = k0 + kk;
            vec4 v = m < pc.M && k < pc.K ? vec4(x4[(m * pc.K + k) >> 2]) : vec4(0.0);
            for (uint i = 0; i < 4; i++) As[row * SK + kk + i] = float16_t(v[i]);
        }
        for (uint e = t; e < BN * BK / 4; e += LOCAL) {
            uint row = e / (BK / 4), kk = (e % (BK / 4)) * 4, n = nTile + row, k = k0 + kk;
            vec4 v = n < pc.N && k < pc.K ? w_load4(n * rowBytes, k, pc.K) : vec4(0.0);
            for (uint i = 0; i < 4; i++) Bs[row * SK + kk + i] = float16_t(v[i]);
        }
        barrier();
        for (uint kk = 0; kk < BK; kk += CK) {
            MatA a[2];
            MatB b[2];
            for (uint i = 0; i < 2; i++) coopMatLoadNV(a[i], As, ((2 * warpM + i) * CM) * SK + kk, SK, false);
            for (uint j = 0; j < 2; j++) coopMatLoadNV(b[j], Bs, ((2 * warpN + j) * CN) * SK + kk, SK, true);
            for (uint i = 0; i < 2; i++) for (uint j = 0; j < 2; j++) acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
        }
        barrier();
    }

    uint stage = warp * CM * CN;
    for (uint i = 0; i < 2; i++) {
        for (uint j = 0; j < 2; j++) {
            coopMatStoreNV(acc[i][j], Cs, stage, CN, false);
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            uint mBase = mTile + (2 * warpM + i) * CM, nBase = nTile + (2 * warpN + j) * CN;
            for (uint e = lane; e < CM * CN; e += gl_SubgroupSize) {
                uint m = mBase + e / CN, n = nBase + e % CN;
                if (m < pc.M && n < pc.N) y[m * pc.ldy + pc.n0 + n] = OUT_T(linear_epilogue(Cs[stage + e], m, n));
            }
            // The next tile overwrites this staging area.
            subgroupBarrier();
        }
    }
}
