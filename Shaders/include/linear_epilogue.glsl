// Bias, activation, layer scale and residual after the dot product. Include after the
// bias (binding 2), residual (4) and scale (5) buffers are declared.
float linear_epilogue(float v, uint m, uint n) {
    uint col = pc.n0 + n;
    if (pc.hasBias != 0u) v += bias[col];
    if (pc.act == ACT_GELU) v = gelu(v);
    else if (pc.act == ACT_SILU) v = silu(v);
    if (pc.hasScale != 0u) v *= scale[col];
    if (pc.hasResidual != 0u) v += float(residual[m * pc.ldy + col]);
    return v;
}
