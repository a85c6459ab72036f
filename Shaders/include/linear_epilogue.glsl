// Bias and activation after the dot product; include after `bias` is declared.
float linear_epilogue(float v, uint n) {
    if (pc.hasBias != 0u) v += bias[pc.n0 + n];
    if (pc.act == ACT_GELU) v = gelu(v);
    else if (pc.act == ACT_SILU) v = silu(v);
    return v;
}
