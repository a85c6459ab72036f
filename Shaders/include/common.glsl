// Shared helpers for every compute shader.

// erf with |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26); GLSL has no erf.
float erf_approx(float x) {
    float s = sign(x);
    float a = abs(x);
    float t = 1.0 / (1.0 + 0.3275911 * a);
    float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return s * (1.0 - poly * exp(-a * a));
}

// GELU, exact erf form (PyTorch nn.GELU() default), not the tanh approximation.
float gelu(float x) { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }

float silu(float x) { return x / (1.0 + exp(-x)); }

// Grid-stride loops: dispatch at most 65535 groups in x, however long the array.
#define GRID_STRIDE_LOOP(i, n) \
    for (uint i = gl_GlobalInvocationID.x; i < (n); i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
