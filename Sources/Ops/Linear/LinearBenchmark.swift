import VulkanCore

/// Times LinearOp at one shape on a device: the figure the model's kernels are compared
/// against (`bench ops`, and the GEMM / GEMV baselines of `bench`).
public enum LinearBenchmark {
    public struct Result: Sendable {
        public var variant: LinearOp.Variant
        /// The tiled kernel's tile, e.g. "128x128" (nil for the other kernels).
        public var tile: String?
        /// Median GPU time of one repetition, in ns.
        public var ns: Double
        /// Fastest repetition, in ns.
        public var bestNs: Double
        public var flops: Double
        public var bytes: Double
        public var gflops: Double { flops / ns }
        public var gbps: Double { bytes / ns }
    }

    /// One warm-up replay, then `repeats` dispatches timed with GPU timestamps; the median.
    /// `variant` (default: the device's choice) and, for the tiled kernel, `tile` force a kernel;
    /// `tiledV1` times the previous tiled kernel instead (Shaders/linear_tiled_v1.comp).
    public static func measure(_ device: Device, m: Int, n: Int, k: Int, weights format: WeightFormat, activations act: StorageType = .f32,
                               repeats: Int = 5, x: [Float], w: [Float], variant: LinearOp.Variant? = nil, tile: TiledTile? = nil,
                               tiledV1: Bool = false) throws -> Result {
        try measure(device, m: m, weights: format, activations: act, repeats: repeats, x: x, source: try FloatRows(w, rows: n, cols: k),
                    variant: variant, tile: tile, tiledV1: tiledV1)
    }

    /// A tile of the tiled kernel: 64 or 128 rows by 64 or 128 columns.
    public struct TiledTile: Sendable, CustomStringConvertible {
        let tile: GEMMTiles.SIMT
        public init?(_ text: String) {
            let sides = text.split(separator: "x").compactMap { Int($0) }
            guard sides.count == 2, sides.allSatisfy({ $0 == 64 || $0 == 128 }) else { return nil }
            tile = GEMMTiles.SIMT(mGroups: sides[0] / 64, nGroups: sides[1] / 64)
        }
        public var description: String { tile.description }
    }

    /// The same with the weight read from `source` ([N][K]), e.g. a model's own tensor.
    public static func measure(_ device: Device, m: Int, weights format: WeightFormat, activations act: StorageType = .f32,
                               repeats: Int = 5, x: [Float], source: some WeightRows, variant chosen: LinearOp.Variant? = nil,
                               tile: TiledTile? = nil, tiledV1: Bool = false) throws -> Result {
        let (n, k) = (source.rows, source.cols)
        let weight = try LinearWeight(device: device, source: source, format: format)
        let gx = try device.allocate(bytes: m * k * act.size + 4)
        let gy = try device.allocate(bytes: m * n * act.size + 4)
        if act == .f16 {
            try x.map { Float16($0).bitPattern }.withUnsafeBytes { try device.write($0, to: gx.view) }
        } else {
            try x.withUnsafeBytes { try device.write($0, to: gx.view) }
        }
        let variant = tiledV1 ? .tiled : chosen ?? device.kernelPolicy.linear(m: m, k: k, format: format)
        let simt = variant == .tiled && !tiledV1 ? tile?.tile ?? GEMMTiles.simt(caps: device.capabilities, m: m, n: n) : nil
        let seq = CommandSequence(device: device, label: "bench", profiling: true)
        let reps = max(1, repeats)
        for _ in 0..<reps {
            if tiledV1 {
                try LinearOp.encodeTiledV1(seq, x: gx.view, weight: weight, y: gy.view, m: m, activations: act)
            } else {
                try LinearOp.encode(seq, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, activations: act, variant: variant,
                                    bindingLimit: nil, simtTile: simt)
            }
        }
        try seq.run()   // warm-up: pipeline compilation, first touch of memory
        try seq.run()
        let times = seq.timings.map(\.durationNs)
        // Sliced weights dispatch several times per repetition: sum per repetition.
        let perRep = max(1, times.count / reps)
        let repTimes = stride(from: 0, to: times.count, by: perRep).map { times[$0..<min(times.count, $0 + perRep)].reduce(0, +) }
        let sorted = repTimes.sorted()
        return Result(variant: variant, tile: tiledV1 ? "64x64 v1" : simt?.description, ns: max(1, sorted[sorted.count / 2]), bestNs: max(1, sorted[0]), flops: 2.0 * Double(m * n * k), bytes: Double(weight.byteCount + (m * k + m * n) * act.size))
    }

    /// Deterministic values in [-scale, scale).
    public static func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var state = seed &* 0x9E3779B97F4A7C15 | 1
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            for i in 0..<count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                buf[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
            }
            n = count
        }
    }
}
