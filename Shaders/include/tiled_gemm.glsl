// The register-blocked SIMT GEMM core shared by linear_tiled.comp and conv2d_gemm.comp:
// Y[m, n0+n] = epilogue(sum_k X[m, k] W[n, k]), 256 invocations (16 x 16), each computing
// (4 TM_GROUPS) x (4 TN_GROUPS) outputs, so a (64 TM_GROUPS) x (64 TN_GROUPS) tile per
// workgroup (128 x 128 with 8 x 8 per invocation at 2 x 2). K in steps of 8 through
// double-buffered shared memory: the next step's global loads are issued before this step's
// arithmetic and stored to the other buffer after it, one barrier a step.
// The including shader declares the push constants (linear_push.glsl's fields first), the
// bindings of linear_tiled.comp, includes weight_load.glsl and linear_epilogue.glsl, and
// defines `vec4 load_x(uint m, uint k, bool vecK)`: X[m][k..k+3], zeros past M or K (vecK:
// K % 4 == 0). TM_GROUPS and TN_GROUPS are specialization constants 0 and 1 (1 or 2;
// Sources/Ops/Linear/GEMMTiles.swift).
layout(constant_id = 0) const uint TM_GROUPS = 2;
layout(constant_id = 1) const uint TN_GROUPS = 2;
layout(local_size_x = 256) in;

const uint BK = 8;
const uint BM = 64 * TM_GROUPS, BN = 64 * TN_GROUPS;
// Tiles stored [k][row] as vec4s of 4 rows, each k row padded by one vec4: the transposing
// stores of a warp then hit distinct banks, and the vec4 reads stay aligned.
const uint SA = BM / 4 + 1, SB = BN / 4 + 1;
shared vec4 As[2 * BK * SA];
shared vec4 Bs[2 * BK * SB];

// Four consecutive K values of weight row n from k (zeros past N or K).
vec4 load_w(uint n, uint k, uint rowBytes, bool vecK) {
    if (n >= pc.N) return vec4(0.0);
    if (vecK) return k < pc.K ? w_load4(n * rowBytes, k, pc.K) : vec4(0.0);
    vec4 v;
    for (uint i = 0; i < 4; i++) v[i] = k + i < pc.K ? w_load1(n * rowBytes, k + i, pc.K) : 0.0;
    return v;
}

void main() {
    uint t = gl_LocalInvocationID.x;
    uint tx = t % 16u, ty = t / 16u;
    uint nTile = gl_WorkGroupID.x * BN, mTile = gl_WorkGroupID.y * BM;
    uint rowBytes = w_row_bytes(pc.K);
    bool vecK = (pc.K & 3u) == 0u;
    // Loading: invocation t fetches 4 K values of tile row t / 2 (when that row exists).
    uint loadRow = t >> 1, loadK = (t & 1u) * 4u;
    bool loadsA = loadRow < BM, loadsB = loadRow < BN;

    vec4 acc[4 * TM_GROUPS][TN_GROUPS];
    for (uint i = 0; i < 4 * TM_GROUPS; i++) for (uint j = 0; j < TN_GROUPS; j++) acc[i][j] = vec4(0.0);

    vec4 nextA = loadsA ? load_x(mTile + loadRow, loadK, vecK) : vec4(0.0);
    vec4 nextB = loadsB ? load_w(nTile + loadRow, loadK, rowBytes, vecK) : vec4(0.0);
    uint buf = 0;
    for (uint i = 0; i < 4; i++) {
        if (loadsA) As[(loadK + i) * SA + (loadRow >> 2)][loadRow & 3u] = nextA[i];
        if (loadsB) Bs[(loadK + i) * SB + (loadRow >> 2)][loadRow & 3u] = nextB[i];
    }
    barrier();

    uint steps = (pc.K + BK - 1) / BK;
    for (uint s = 0; s < steps; s++) {
        bool more = s + 1 < steps;
        if (more) {
            uint k = (s + 1) * BK + loadK;
            if (loadsA) nextA = load_x(mTile + loadRow, k, vecK);
            if (loadsB) nextB = load_w(nTile + loadRow, k, rowBytes, vecK);
        }
        for (uint kk = 0; kk < BK; kk++) {
            vec4 a[TM_GROUPS], b[TN_GROUPS];
            // Row group g of this invocation: rows 64 g + 4 ty .. +3 (columns likewise with tx).
            for (uint g = 0; g < TM_GROUPS; g++) a[g] = As[(buf * BK + kk) * SA + 16u * g + ty];
            for (uint h = 0; h < TN_GROUPS; h++) b[h] = Bs[(buf * BK + kk) * SB + 16u * h + tx];
            for (uint g = 0; g < TM_GROUPS; g++)
                for (uint i = 0; i < 4; i++)
                    for (uint h = 0; h < TN_GROUPS; h++) acc[4 * g + i][h] += a[g][i] * b[h];
        }
        if (more) {
            uint other = buf ^ 1u;
            for (uint i = 0; i < 4; i++) {
                if (loadsA) As[(other * BK + loadK + i) * SA + (loadRow >> 2)][loadRow & 3u] = nextA[i];
                if (loadsB) Bs[(other * BK + loadK + i) * SB + (loadRow >> 2)][loadRow & 3u] = nextB[i];
            }
        }
        // Orders this step's reads of `buf` before the next step's stores into it, and the
        // stores into `other` before the next step's reads.
        barrier();
        buf ^= 1u;
    }

    for (uint g = 0; g < TM_GROUPS; g++) {
        for (uint i = 0; i < 4; i++) {
            uint m = mTile + 64u * g + 4u * ty + i;
            if (m >= pc.M) continue;
            for (uint h = 0; h < TN_GROUPS; h++) {
                for (uint j = 0; j < 4; j++) {
                    uint n = nTile + 64u * h + 4u * tx + j;
                    if (n < pc.N) y[m * pc.ldy + pc.n0 + n] = OUT_T(linear_epilogue(acc[4 * g + i][h][j], m, n));
                }
            }
        }
    }
}
