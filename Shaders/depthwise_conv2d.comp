#version 450
// Depthwise and channel-multiplier convolution on HWC maps (pixel-major, channels contiguous):
//   y[oy, ox, o] = act(b[o] + sum_{ky,kx} w[ky, kx, o] * x[oy*S + ky - K/2, ox*S + kx - K/2, o / MULT])
// with zero padding K/2. MULT 1 is depthwise (groups = C); MULT 2 is FastViTHD's grouped conv
// with C_out = 2 C_in (downsample 7x7 s2, conv_exp 3x3). Weights are reordered at upload to
// [K][K][C_out] so that a tap's weights for neighbouring channels are contiguous, like x and y.
//
// One invocation computes a PY x PX block of output pixels for one channel (scalar) or four
// channels (VEC4, needs C_out % 4 == 0). The block's outputs share inputs: each of the
// ROWS = (PY-1)*S + K input rows it needs is loaded once (SPAN = (PX-1)*S + K values) and
// used by every output row and tap that reads it, so loads per output fall from K*K to about
// (1 + (K-1)/PX) * (1 + (K-1)/PY). K, S, PX, PY are specialization constants so every loop
// unrolls and the arrays stay in registers. The host picks the block by device: GPUs use
// 4 x 1 (few registers, the cache shares the rest); CPU devices (lavapipe) use a large block,
// because there every buffer load is a per-lane scalar loop and dominates the time, while
// register spills are cheap stack traffic. With PY > 1 the K*K weights are loaded once up front.
// Lanes vary over channels first: neighbouring lanes load and store neighbouring addresses.
// The _a16 variants store x and y as fp16 (f16vec4 / f16vec2 / scalar loads where the fp32
// ones load vec4 / vec2 / float); weights, bias and arithmetic stay fp32.
// variant: depthwise_conv2d MULT=1
// variant: depthwise_conv2d_vec4 MULT=1 VEC4
// variant: depthwise_conv2d_m2 MULT=2
// variant: depthwise_conv2d_m2_vec4 MULT=2 VEC4
// variant: depthwise_conv2d_a16 MULT=1 ACT_F16
// variant: depthwise_conv2d_vec4_a16 MULT=1 VEC4 ACT_F16
// variant: depthwise_conv2d_m2_a16 MULT=2 ACT_F16
// variant: depthwise_conv2d_m2_vec4_a16 MULT=2 VEC4 ACT_F16
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "activation_type.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int K = 3;    // kernel side (odd)
layout(constant_id = 2) const int S = 1;    // stride
layout(constant_id = 3) const int PX = 4;   // output pixels per invocation along x
layout(constant_id = 4) const int PY = 1;   // output rows per invocation
const int SPAN = (PX - 1) * S + K;          // input columns one block reads
const int ROWS = (PY - 1) * S + K;          // input rows one block reads

// VT: the arithmetic type; ACT_VT: how y (and x, MULT 1) is stored.
#ifdef VEC4
#define VT vec4
#define ACT_VT ACT_VEC4
// Four output channels o..o+3 read input channels o/MULT..(o+3)/MULT: a vec4 (MULT 1) or a
// vec2 whose lanes are each used twice (MULT 2); either way at index g = o / 4 of the view.
#if MULT == 1
layout(std430, binding = 0) readonly buffer X { ACT_VEC4 x[]; };
VT load_x(uint i) { return vec4(x[i]); }
#else
layout(std430, binding = 0) readonly buffer X { ACT_VEC2 x[]; };
VT load_x(uint i) { return vec2(x[i]).xxyy; }
#endif
VT gelu_v(VT v) { return VT(gelu(v.x), gelu(v.y), gelu(v.z), gelu(v.w)); }
#else
#define VT float
#define ACT_VT ACT_T
layout(std430, binding = 0) readonly buffer X { ACT_T x[]; };
VT load_x(uint i) { return float(x[i]); }
VT gelu_v(VT v) { return gelu(v); }
#endif
layout(std430, binding = 1) readonly buffer W { VT w[]; };
layout(std430, binding = 2) readonly buffer B { VT bias[]; };
layout(std430, binding = 3) writeonly buffer Y { ACT_VT y[]; };
// h, w, cin: input map; oh, ow, cout: output map; lanes: channel lanes per pixel (cout or cout/4).
layout(push_constant) uniform Push {
    uint h; uint w; uint cin; uint oh; uint ow; uint cout; uint lanes; uint hasBias; uint gelu;
} pc;

void main() {
    uint G = pc.lanes;
    // Input elements (scalar or vector) per pixel: the scalar path indexes channels directly.
#ifdef VEC4
    uint inStride = G;
#else
    uint inStride = pc.cin;
#endif
    uint xBlocks = (pc.ow + PX - 1) / PX;
    uint yBlocks = (pc.oh + PY - 1) / PY;
    uint total = yBlocks * xBlocks * G;
    GRID_STRIDE_LOOP(i, total) {
        uint g = i % G;
        uint rest = i / G;
        uint xb = rest % xBlocks;
        uint yb = rest / xBlocks;
#ifdef VEC4
        uint cIn = g;
#else
        uint cIn = g / MULT;
#endif
        int ox0 = int(xb) * PX, oy0 = int(yb) * PY;
        int ix0 = ox0 * S - K / 2, iy0 = oy0 * S - K / 2;

        VT wr[K * K];
        if (PY > 1) {
            [[unroll]] for (int t = 0; t < K * K; ++t) wr[t] = w[uint(t) * G + g];
        }
        VT b0 = VT(0.0);
        if (pc.hasBias != 0u) b0 = bias[g];
        VT acc[PY * PX];
        [[unroll]] for (int j = 0; j < PY * PX; ++j) acc[j] = b0;

        [[unroll]] for (int r = 0; r < ROWS; ++r) {
            int iy = iy0 + r;
            if (iy < 0 || iy >= int(pc.h)) continue;   // zero padding rows
            uint rowBase = uint(iy) * pc.w;
            VT row[SPAN];
            [[unroll]] for (int t = 0; t < SPAN; ++t) {
                int ix = ix0 + t;
                row[t] = VT(0.0);
                if (ix >= 0 && ix < int(pc.w)) row[t] = load_x((rowBase + uint(ix)) * inStride + cIn);
            }
            // Output row py reads this input row with tap row ky = r - py*S (resolved at compile time).
            [[unroll]] for (int py = 0; py < PY; ++py) {
                int ky = r - py * S;
                if (ky < 0 || ky >= K) continue;
                [[unroll]] for (int kx = 0; kx < K; ++kx) {
                    VT wv;
                    if (PY > 1) wv = wr[ky * K + kx];
                    else wv = w[uint(ky * K + kx) * G + g];
                    [[unroll]] for (int j = 0; j < PX; ++j) acc[py * PX + j] = fma(row[j * S + kx], wv, acc[py * PX + j]);
                }
            }
        }

        [[unroll]] for (int py = 0; py < PY; ++py) {
            uint oy = uint(oy0 + py);
            if (oy >= pc.oh) break;
            [[unroll]] for (int j = 0; j < PX; ++j) {
                uint ox = uint(ox0 + j);
                if (ox >= pc.ow) break;
                VT v = acc[py * PX + j];
                if (pc.gelu != 0u) v = gelu_v(v);
                y[(oy * pc.ow + ox) * G + g] = ACT_VT(v);
            }
        }
    }
}
