// Workgroup-wide sum and max through shared memory (no assumption on subgroup size).
// Include after the shader's local-size declaration (gl_WorkGroupSize is fixed there);
// the size must be a power of two of at most 1024.
shared float reduce_scratch[1024];

float workgroup_sum(float v) {
    uint t = gl_LocalInvocationID.x;
    reduce_scratch[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (t < s) reduce_scratch[t] += reduce_scratch[t + s];
        barrier();
    }
    float r = reduce_scratch[0];
    barrier();
    return r;
}

float workgroup_max(float v) {
    uint t = gl_LocalInvocationID.x;
    reduce_scratch[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (t < s) reduce_scratch[t] = max(reduce_scratch[t], reduce_scratch[t + s]);
        barrier();
    }
    float r = reduce_scratch[0];
    barrier();
    return r;
}
