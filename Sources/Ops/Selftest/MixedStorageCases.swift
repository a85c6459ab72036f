import VulkanCore

extension Selftest {
    /// The decoder's fp32 residual stream under fp16 rows: fp32 Y (and residual) over fp16 X for
    /// every linear variant and weight format, plain and over stacked SwiGLU rows (o_proj,
    /// down_proj). The residual holds a value beyond fp16's range that must come back intact.
    /// (fp32 Y over fp16 rows under a folded RMSNorm, and fp16 Y over fp32 ones: rmsNormInputCases.)
    static func mixedStorageCases(_ caps: DeviceCapabilities) -> [Case] {
        let plain = [(2, 7, 12), (3, 33, 36), (37, 61, 100)]
        let blocked = [(1, 5, 64), (3, 33, 192), (9, 130, 128)]
        var cases: [Case] = []
        func add(_ variant: LinearOp.Variant, _ format: WeightFormat, _ input: LinearOp.Input, _ x: StorageType, _ y: StorageType, _ name: String) {
            let shapes = (format.isQuantized ? blocked : plain).filter { LinearOp.supports(variant, caps: caps, m: $0.0, k: $0.2, format: format) }
            let why = SelftestData.unsupported(.f16, caps)
                ?? (LinearOp.supportsStorage(variant, input: input, x: x, y: y) ? nil : "no kernel for this storage (LinearOp.supportsStorage)")
                ?? (shapes.isEmpty ? "LinearOp.supports is false on this device" : nil)
            if let why {
                cases.append(Case(op: "linear", variant: name, shape: "-", unsupported: why, body: { _ in throw OpError("unsupported") }))
                return
            }
            for (m, n, k) in shapes {
                cases.append(Case(op: "linear", variant: name, shape: "\(m)x\(n)x\(k)" + (y == .f32 ? ", residual \(SelftestData.wide)" : "")) { device in
                    try mixedLinear(device, variant: variant, m: m, n: n, k: k, format: format, swiGLU: !input.isPlain, x: x, y: y)
                })
            }
        }
        for variant in LinearOp.Variant.allCases {
            for format in WeightFormat.allCases { add(variant, format, .plain, .f16, .f32, "\(variant.rawValue) \(format.rawValue) a16 -> f32") }
            // fp16 Y over fp32 X only under a folded RMSNorm (rmsNormInputCases); listed so a new kernel shows up.
            add(variant, .f32, .plain, .f32, .f16, "\(variant.rawValue) f32 a32 -> f16")
        }
        for format in WeightFormat.allCases { add(.gemv, format, .swiGLU, .f16, .f32, "gemv swiglu-input \(format.rawValue) a16 -> f32") }
        add(.gemv, .f32, .swiGLU, .f32, .f16, "gemv swiglu-input f32 a32 -> f16")
        return cases
    }

    /// y = residual + bias + X W^T with X (plain, or stacked [gate | up] rows) stored as `x` and Y
    /// and the residual as `y`. Only the weights' storage and fp16 Y round (coopmat also rounds
    /// to fp16 tiles). An fp32 residual holds the wide value.
    static func mixedLinear(_ device: Device, variant: LinearOp.Variant, m: Int, n: Int, k: Int, format: WeightFormat, swiGLU: Bool,
                            x xType: StorageType, y yType: StorageType) throws -> Comparison {
        let x = SelftestData.rounded(SelftestData.values(m * (swiGLU ? 2 : 1) * k, seed: UInt64(m * 100 + k), scale: 2), to: xType)
        let w = SelftestData.values(n * k, seed: UInt64(n * 7 + k), scale: 0.5)
        let b = SelftestData.values(n, seed: UInt64(n))
        let values = SelftestData.values(m * n, seed: UInt64(m + n))
        let res = yType == .f32 ? SelftestData.withWideValue(values) : SelftestData.rounded(values, to: .f16)
        let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
        let (gx, gb, gy) = (try SelftestData.upload(device, x, as: xType), try SelftestData.upload(device, b), try SelftestData.upload(device, res, as: yType))
        try SelftestData.run(device, "linear mixed storage") {
            try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gy.view, m: m, residual: gy.view, activations: xType, output: yType,
                                variant: variant, input: swiGLU ? .swiGLU : .plain)
        }
        let rows = swiGLU ? SelftestData.swiGLU(x, m: m, k: k) : x
        let lin = Reference.linear(x: rows, m: m, k: k, weight: WeightPacking.roundTrip(w, rows: n, cols: k, format: format), n: n, bias: b)
        let want = (0..<m * n).map { res[$0] + lin[$0] }
        let got = try SelftestData.download(device, gy, m * n, as: yType)
        guard yType == .f32 else { return Comparison(got: got, want: want, tolerance: SelftestData.tolerance(.f16)) }
        // The wide value checked on its own: its fp32 rounding (0.25 at 3e6) would swamp the rest.
        let i = SelftestData.wideIndex(m * n)
        guard abs(got[i] - want[i]) <= 1 else { throw OpError("the residual \(res[i]) came back as \(got[i] - lin[i])") }
        return Comparison(got: SelftestData.narrow(got), want: SelftestData.narrow(want),
                          tolerance: SelftestData.tolerance(variant == .coopmat ? .f16 : .f32))
    }
}
