#version 450
// Dense k x k convolution (groups 1) on HWC maps with zero padding K/2, bias, optional GELU:
//   y[oy, ox, o] = act(b[o] + sum_{ky,kx,c} w[o, c, ky, kx] * x[oy*S + ky - K/2, ox*S + kx - K/2, c])
// Used by FastViTHD's stem conv (3 -> 96, 3x3 s2); 1x1 convs go through LinearOp instead.
//
// Weights are reordered at upload to [K][K][C_in][C_out8] with C_out padded to a multiple of 8
// (zeros), so one vec4 load gives a tap's weights for four output channels and a block of
// OG <= 2 such groups never reads past the end. One invocation computes a PY x PX block of
// output pixels for OG groups of four output channels. For each input channel it loads that
// channel's K*K*OG weight vectors once and each of the ROWS = (PY-1)*S + K input rows the block
// needs once (SPAN = (PX-1)*S + K values), then accumulates every output that reads them.
// K, S, PX, PY, OG are specialization constants, so the loops unroll and the arrays stay in
// registers. The host picks the block by device: GPUs use 4 x 1 x 1 (few registers; with
// C_in = 3 the stem is bound by writing its 96x512x512 output); CPU devices (lavapipe) use a
// large block, because there every buffer load is a per-lane scalar loop and dominates.
// Lanes vary over output-channel groups first, so neighbouring lanes store neighbouring
// 16-byte chunks of the same pixel.
// The _a16 variants store x and y as fp16 (one scalar load per input value either way).
// variant: conv2d_f32 WEIGHT_F32
// variant: conv2d_f16 WEIGHT_F16
// variant: conv2d_f32_a16 WEIGHT_F32 ACT_F16
// variant: conv2d_f16_a16 WEIGHT_F16 ACT_F16
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int K = 3;    // kernel side (odd)
layout(constant_id = 2) const int S = 1;    // stride
layout(constant_id = 3) const int PX = 4;   // output pixels per invocation along x
layout(constant_id = 4) const int PY = 1;   // output rows per invocation
layout(constant_id = 5) const int OG = 1;   // groups of 4 output channels per invocation (1 or 2)
const int SPAN = (PX - 1) * S + K;
const int ROWS = (PY - 1) * S + K;

layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
#ifdef WEIGHT_F16
// fp16 pairs in 32-bit words: unpackHalf2x16 needs no 16-bit storage feature.
layout(std430, binding = 1) readonly buffer W { uvec2 w[]; };
vec4 load_w(uint i) { uvec2 u = w[i]; return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y)); }
#else
layout(std430, binding = 1) readonly buffer W { vec4 w[]; };
vec4 load_w(uint i) { return w[i]; }
#endif
layout(std430, binding = 2) readonly buffer B { vec4 bias[]; };   // padded like the weights
layout(std430, binding = 3) writeonly buffer Y { ACT_T y[]; };
// groups: padded C_out / 4 (vec4 groups per pixel, a multiple of 2).
layout(push_constant) uniform Push {
    uint h; uint w; uint cin; uint oh; uint ow; uint cout; uint groups; uint hasBias; uint gelu;
} pc;

void main() {
    uint G = pc.groups;
    uint lanes = G / uint(OG);
    uint xBlocks = (pc.ow + PX - 1) / PX;
    uint yBlocks = (pc.oh + PY - 1) / PY;
    uint total = yBlocks * xBlocks * lanes;
    GRID_STRIDE_LOOP(i, total) {
        uint g0 = (i % lanes) * uint(OG);
        uint rest = i / lanes;
        uint xb = rest % xBlocks;
        uint yb = rest / xBlocks;
        int ox0 = int(xb) * PX, oy0 = int(yb) * PY;
        int ix0 = ox0 * S - K / 2, iy0 = oy0 * S - K / 2;

        vec4 acc[OG * PY * PX];
        [[unroll]] for (int q = 0; q < OG; ++q) {
            vec4 b0 = vec4(0.0);
            if (pc.hasBias != 0u) b0 = bias[g0 + uint(q)];
            [[unroll]] for (int j = 0; j < PY * PX; ++j) acc[q * PY * PX + j] = b0;
        }

        for (uint c = 0; c < pc.cin; ++c) {
            vec4 wr[OG * K * K];
            [[unroll]] for (int t = 0; t < K * K; ++t) {
                [[unroll]] for (int q = 0; q < OG; ++q) wr[q * K * K + t] = load_w((uint(t) * pc.cin + c) * G + g0 + uint(q));
            }
            [[unroll]] for (int r = 0; r < ROWS; ++r) {
                int iy = iy0 + r;
                if (iy < 0 || iy >= int(pc.h)) continue;   // zero padding rows
                uint rowBase = uint(iy) * pc.w;
                float row[SPAN];
                [[unroll]] for (int t = 0; t < SPAN; ++t) {
                    int ix = ix0 + t;
                    row[t] = 0.0;
                    if (ix >= 0 && ix < int(pc.w)) row[t] = float(x[(rowBase + uint(ix)) * pc.cin + c]);
                }
                // Output row py reads this input row with tap row ky = r - py*S (resolved at compile time).
                [[unroll]] for (int py = 0; py < PY; ++py) {
                    int ky = r - py * S;
                    if (ky < 0 || ky >= K) continue;
                    [[unroll]] for (int kx = 0; kx < K; ++kx) {
                        [[unroll]] for (int q = 0; q < OG; ++q) {
                            vec4 wv = wr[q * K * K + ky * K + kx];
                            [[unroll]] for (int j = 0; j < PX; ++j) {
                                int a = (q * PY + py) * PX + j;
                                acc[a] = fma(vec4(row[j * S + kx]), wv, acc[a]);
                            }
                        }
                    }
                }
            }
        }

        [[unroll]] for (int q = 0; q < OG; ++q) {
            uint o0 = (g0 + uint(q)) * 4;
            if (o0 >= pc.cout) break;
            uint n = min(4u, pc.cout - o0);
            [[unroll]] for (int py = 0; py < PY; ++py) {
                uint oy = uint(oy0 + py);
                if (oy >= pc.oh) break;
                [[unroll]] for (int j = 0; j < PX; ++j) {
                    uint ox = uint(ox0 + j);
                    if (ox >= pc.ow) break;
                    vec4 v = acc[(q * PY + py) * PX + j];
                    if (pc.gelu != 0u) v = vec4(gelu(v.x), gelu(v.y), gelu(v.z), gelu(v.w));
                    uint base = (oy * pc.ow + ox) * pc.cout + o0;
                    y[base] = ACT_T(v.x);
                    if (n > 1u) y[base + 1] = ACT_T(v.y);
                    if (n > 2u) y[base + 2] = ACT_T(v.z);
                    if (n > 3u) y[base + 3] = ACT_T(v.w);
                }
            }
        }
    }
}
