import VulkanCore

/// Y[m, :] = residual[m, :] + scale * act(X[m, :] W^T + b), each part of the epilogue optional:
/// fp32 or fp16 activations, weights [N][K] in any `WeightFormat` (dequantized in the kernel),
/// fp32 accumulation. Y may be the residual
/// itself (each element is read and written by the same invocation).
///
/// Kernels: a register-blocked shared-memory tiled GEMM (GPUs), a subgroup register-blocked
/// GEMM (CPU-type devices such as lavapipe, where barriers are costly and subgroup shuffles are
/// cheap), a GEMV for decode (M <= 8), and a cooperative-matrix (tensor core) GEMM on devices
/// with VK_NV_cooperative_matrix, which KernelPolicy picks only after its selftest cases passed on
/// the device (it cannot be tested in CI). Which one runs is KernelPolicy's choice. Weights larger
/// than maxStorageBufferRange are dispatched in row slices.
public enum LinearOp {
    public enum Variant: String, CaseIterable, Sendable { case tiled, subgroup, gemv, coopmat }
    public enum Activation: UInt32, Sendable { case none = 0, gelu = 1, silu = 2 }
    /// What X holds. `.plain`: rows [m][K]. `.swiGLU`: rows [m][2K], the stacked [gate | up]
    /// output of the gated MLP's gate/up projection, and the GEMM runs over
    /// silu(gate) * up (fp32), which saves the SwiGLU dispatch in decode. `.rmsNorm`: rows
    /// [m][K] before an RMSNorm with this fp32 weight [K], which the GEMM applies as it loads
    /// them (y = x W^T with x = w * x / sqrt(mean(x^2) + eps)), which saves the norm's dispatch
    /// in decode. Both GEMV kernel only.
    public enum Input {
        case plain, swiGLU
        case rmsNorm(weight: BufferView, eps: Float)

        public var isPlain: Bool { if case .plain = self { return true }; return false }
        public var isNorm: Bool { if case .rmsNorm = self { return true }; return false }
        var name: String { switch self { case .plain: "plain"; case .swiGLU: "SwiGLU"; case .rmsNorm: "RMSNorm" } }
        /// The kernel name's part for this input (Shaders/gemv.comp).
        var suffix: String { switch self { case .plain: ""; case .swiGLU: "_swiglu"; case .rmsNorm: "_norm" } }
    }

    static let gemvMaxRows = 8
    static let gemvLocal = 64
    static let subgroupLocal = 64

    /// Whether `variant` can run this shape with `format` weights on this device (tests sweep
    /// every valid one). Quantized formats need K to be a multiple of their block size; coopmat
    /// needs K % 4 == 0 and an NV cooperative-matrix fp16 -> fp32 shape whose tile fits.
    public static func supports(_ variant: Variant, caps: DeviceCapabilities, m: Int, k: Int, format: WeightFormat = .f32) -> Bool {
        guard format.supports(cols: k) else { return false }
        switch variant {
        case .tiled: return GEMMTiles.simt(caps: caps, m: max(1, m), n: 1) != nil
        case .subgroup: return k % 4 == 0 && caps.hasSubgroupShuffle
        case .gemv: return k % 4 == 0 && m <= gemvMaxRows && caps.hasSubgroupArithmetic
        case .coopmat: return k % 4 == 0 && GEMMTiles.coopmat(caps: caps) != nil
        }
    }

    /// Why `supports` is false, for the error message.
    static func unsupportedReason(_ variant: Variant, caps: DeviceCapabilities) -> String {
        switch variant {
        case .coopmat where GEMMTiles.coopmat(caps: caps) == nil:
            return " (it needs VK_NV_cooperative_matrix with an fp16 x fp16 -> fp32 subgroup shape, fp16 arithmetic and a fixed subgroup size; "
                + "\(caps.name) reports NV shapes [\(caps.cooperativeMatrixShapes.nv.map(\.description).joined(separator: ", "))])"
        case .tiled where GEMMTiles.simt(caps: caps, m: 1, n: 1) == nil:
            return " (it needs 256 invocations per workgroup and \(GEMMTiles.SIMT(mGroups: 1, nGroups: 1).sharedBytes) bytes of shared memory)"
        default:
            return ""
        }
    }

    /// `activations`: the storage of X; `output`: of Y and the residual, X's when nil. Mixed
    /// storage (a decoder's fp32 residual stream beside its fp16 rows): fp32 Y over fp16 X with
    /// every kernel and input (o_proj, down_proj, the LM head), fp16 Y over fp32 X with the GEMV
    /// under a folded RMSNorm (the projections reading the residual stream).
    public static func encode(_ seq: CommandSequence, x: BufferView, weight: LinearWeight, bias: BufferView?, y: BufferView,
                              m: Int, activation: Activation = .none, scale: BufferView? = nil, residual: BufferView? = nil,
                              activations: StorageType = .f32, output: StorageType? = nil, variant chosen: Variant? = nil, input: Input = .plain,
                              label: String = "linear") throws {
        try encode(seq, x: x, weight: weight, bias: bias, y: y, m: m, activation: activation, scale: scale, residual: residual,
                   activations: activations, output: output, variant: chosen, input: input, label: label, bindingLimit: nil)
    }

    /// `bindingLimit` lets tests split small weights into row slices the way large ones are split;
    /// `simtTile` forces the tiled kernel's tile (tests, benchmarks) where it fits the device.
    static func encode(_ seq: CommandSequence, x: BufferView, weight: LinearWeight, bias: BufferView?, y: BufferView,
                       m: Int, activation: Activation = .none, scale: BufferView? = nil, residual: BufferView? = nil,
                       activations: StorageType = .f32, output: StorageType? = nil, variant chosen: Variant? = nil, input: Input = .plain,
                       label: String = "linear", bindingLimit: Int?, simtTile: GEMMTiles.SIMT? = nil) throws {
        var caps = seq.device.capabilities
        if let bindingLimit { caps.maxStorageBufferRange = min(caps.maxStorageBufferRange, bindingLimit) }
        let (n, k) = (weight.rows, weight.cols)
        let variant = chosen ?? seq.device.kernelPolicy.linear(m: m, k: k, format: weight.format)
        try require(supports(variant, caps: caps, m: m, k: k, format: weight.format),
                    "linear: the \(variant) kernel cannot run \(m)x\(n)x\(k) with \(weight.format) weights on this device" + unsupportedReason(variant, caps: caps))
        try require(input.isPlain || variant == .gemv, "linear: a SwiGLU (stacked gate | up) or RMSNorm input needs the gemv kernel, not \(variant)")
        let a = activations.size
        let out = output ?? activations
        let o = out.size
        // Width of one X row: the stacked [gate | up] row is twice the GEMM's K.
        var xWidth = k
        var norm: (weight: BufferView, eps: Float)?
        switch input {
        case .plain: break
        case .swiGLU: xWidth = 2 * k
        case .rmsNorm(let weight, let eps):
            try require(floats(weight) >= k, "linear: the RMSNorm weight holds \(floats(weight)) values, needs \(k)")
            norm = (weight, eps)
        }
        try require(x.size >= m * xWidth * a, "linear: X holds \(x.size) bytes, needs \(m)x\(xWidth) \(activations)")
        try require(y.size >= m * n * o, "linear: Y holds \(y.size) bytes, needs \(m)x\(n) \(out)")
        if let bias { try require(floats(bias) >= n, "linear: bias holds \(floats(bias)) values, needs \(n)") }
        if let scale { try require(floats(scale) >= n, "linear: scale holds \(floats(scale)) values, needs \(n)") }
        if let residual { try require(residual.size >= m * n * o, "linear: residual holds \(residual.size) bytes, needs \(m)x\(n) \(out)") }
        try require(supportsStorage(variant, input: input, x: activations, y: out),
                    "linear: the \(variant) kernel cannot write \(out) Y over \(activations) X" + (input.isPlain ? "" : " with a \(input.name) input")
                        + " (mixed storage: fp32 Y over fp16 X, or fp16 Y over fp32 X with an RMSNorm input)")
        let shader = try Self.shader(variant, weights: weight.format, input: input, x: activations, y: out)
        try requireActivations(activations, on: caps, "linear")
        try requireActivations(out, on: caps, "linear")
        // Tile sides (tiled, coopmat), for the grid below.
        var tile = (m: 0, n: 0)
        let local: Int
        let spec: [UInt32]
        switch variant {
        case .tiled:
            guard let t = simtTile ?? GEMMTiles.simt(caps: caps, m: m, n: n) else { throw OpError("linear: no tiled GEMM tile fits \(caps.name)") }
            try require(t.sharedBytes <= caps.maxComputeSharedMemorySize, "linear: a \(t) tile needs \(t.sharedBytes) bytes of shared memory, \(caps.name) has \(caps.maxComputeSharedMemorySize)")
            (local, spec, tile) = (GEMMTiles.SIMT.invocations, t.specialization, (t.tileM, t.tileN))
        case .coopmat:
            guard let t = GEMMTiles.coopmat(caps: caps) else { throw OpError("linear: no cooperative-matrix tile fits \(caps.name)") }
            (local, spec, tile) = (t.invocations, t.specialization, (t.tileM, t.tileN))
        case .subgroup:
            local = max(subgroupLocal, caps.subgroupSize)
            spec = [UInt32(local)]
        case .gemv:
            local = max(gemvLocal, caps.subgroupSize)
            spec = [UInt32(local), UInt32(m)] + (norm.map { [$0.eps.bits] } ?? [])
        }
        let pipeline = try seq.device.pipeline(shader, bindings: norm == nil ? 6 : 7, pushConstantSize: 36, specialization: spec)

        for slice in slices(rows: n, rowBytes: weight.rowBytes, caps: caps) {
            let w = weight.rowSlice(first: slice.lowerBound, count: slice.count)
            let push: [UInt32] = [UInt32(m), UInt32(slice.count), UInt32(k), UInt32(slice.lowerBound), UInt32(n),
                                  bias == nil ? 0 : 1, activation.rawValue, residual == nil ? 0 : 1, scale == nil ? 0 : 1]
            let groups: (Int, Int, Int)
            switch variant {
            case .tiled, .coopmat:
                groups = (Grid.ceilDiv(slice.count, tile.n), Grid.ceilDiv(m, tile.m), 1)
            case .subgroup:
                let sg = max(1, caps.subgroupSize)
                let tiles = Grid.ceilDiv(m, 8) * Grid.ceilDiv(slice.count, sg * 4)
                groups = (min(Grid.maxGroups, Grid.ceilDiv(tiles, max(1, local / sg))), 1, 1)
            case .gemv:
                let subgroups = max(1, local / max(1, caps.subgroupSize))
                groups = (min(Grid.maxGroups, Grid.ceilDiv(Grid.ceilDiv(slice.count, 4), subgroups)), 1, 1)
            }
            // A folded norm: each subgroup's sum of squares of the rows is not counted.
            let flops = 2.0 * Double(m) * Double(slice.count) * Double(k)
            // The weight bytes as stored (rowBytes: codes, scales and padding), read once.
            let bytes = Double(slice.count * weight.rowBytes + m * xWidth * a + m * slice.count * o)
            // Absent optional operands bind X as a placeholder the shader never reads.
            var bindings: [Binding] = [.read(x), .read(w), .read(bias ?? x), residual.map { _ in .readWrite(y) } ?? .write(y),
                                       .read(residual ?? x), .read(scale ?? x)]
            if let norm { bindings.append(.read(norm.weight)) }
            try seq.dispatch(pipeline, bindings, push: push, groups: groups,
                             label: label, flops: flops, bytes: bytes)
        }
    }

    /// Whether a kernel reads X stored as `x` and writes Y (and the residual) stored as `y`.
    public static func supportsStorage(_ variant: Variant, input: Input = .plain, x: StorageType, y: StorageType) -> Bool {
        switch (x, y) {
        case (.f32, .f32), (.f16, .f16), (.f16, .f32): return true
        case (.f32, .f16): return variant == .gemv && input.isNorm
        }
    }

    /// The kernel for a variant, weight format, input and storage:
    /// `<file>_<format>[_a16][_swiglu|_norm][_out32|_in32]` (Shaders/linear_tiled.comp,
    /// linear_subgroup.comp, linear_coopmat.comp, gemv.comp; SwiGLU and RMSNorm inputs: gemv).
    /// `_a16` marks fp16 rows, `_out32` fp32 Y over them, `_in32` fp32 X.
    static func shader(_ variant: Variant, weights: WeightFormat, input: Input = .plain, x: StorageType, y: StorageType) throws -> ShaderSource {
        let file = variant == .gemv ? "gemv" : "linear_\(variant)"
        let half = x == .f16 || y == .f16
        let mixed = x == y ? "" : (y == .f32 ? "_out32" : "_in32")
        let name = file + "_" + weights.rawValue + (half ? "_a16" : "") + input.suffix + mixed
        return try kernel(name, "linear: no \(variant) kernel for \(weights) weights, \(x) X and \(y) Y" + (input.isPlain ? "" : " and a \(input.name) input"))
    }

    private static func kernel(_ name: String, _ missing: @autoclosure () -> String) throws -> ShaderSource {
        try ShaderLibrary.variant(name, in: ShaderLibrary.gemv_variants + ShaderLibrary.linear_tiled_variants + ShaderLibrary.linear_subgroup_variants
                                  + ShaderLibrary.linear_coopmat_variants, missing())
    }

    /// Row ranges whose weight bytes fit one binding, each starting at an aligned offset.
    static func slices(rows: Int, rowBytes: Int, caps: DeviceCapabilities) -> [Range<Int>] {
        let limit = caps.maxStorageBufferRange
        if rows * rowBytes <= limit - 4 { return [0..<rows] }
        let align = max(4, caps.minStorageBufferOffsetAlignment)
        let step = align / gcd(rowBytes, align)
        let perSlice = max(step, (limit - 4) / rowBytes / step * step)
        return stride(from: 0, to: rows, by: perSlice).map { $0..<min(rows, $0 + perSlice) }
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
