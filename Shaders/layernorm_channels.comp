#version 450
// Channel LayerNorm on a CHW map: per pixel, normalise over C (biased variance, eps inside
// the sqrt), then a per-channel affine. Two passes over C, as Apple's LayerNormChannel does.
// One invocation per pixel: neighbouring invocations read neighbouring addresses.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer G { float gamma[]; };
layout(std430, binding = 2) readonly buffer B { float beta[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint channels; uint pixels; float eps; } pc;

void main() {
    GRID_STRIDE_LOOP(p, pc.pixels) {
        float mean = 0.0;
        for (uint c = 0; c < pc.channels; c++) mean += x[c * pc.pixels + p];
        mean /= float(pc.channels);
        float var = 0.0;
        for (uint c = 0; c < pc.channels; c++) {
            float d = x[c * pc.pixels + p] - mean;
            var += d * d;
        }
        float inv = inversesqrt(var / float(pc.channels) + pc.eps);
        for (uint c = 0; c < pc.channels; c++) {
            y[c * pc.pixels + p] = (x[c * pc.pixels + p] - mean) * inv * gamma[c] + beta[c];
        }
    }
}
