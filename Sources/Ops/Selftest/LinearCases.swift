import VulkanCore

extension Selftest {
    /// Every LinearOp variant (LinearOp.Variant.allCases, so new ones appear by themselves) x
    /// weight format x activation storage, with the epilogue varied by shape, plus the GEMV over
    /// stacked SwiGLU rows and over rows under a folded RMSNorm.
    static func linearCases(_ caps: DeviceCapabilities) -> [Case] {
        // M x N x K: sizes off every tile, K odd or not a multiple of 4 where the format allows.
        let plain = [(1, 5, 3), (2, 7, 12), (8, 65, 36), (37, 61, 100), (130, 257, 68)]
        let blocked = [(1, 5, 64), (3, 33, 192), (9, 130, 128), (37, 61, 192)]
        var cases: [Case] = []
        for variant in LinearOp.Variant.allCases {
            for format in WeightFormat.allCases {
                for storage in SelftestData.storages {
                    let name = "\(variant.rawValue) \(format.rawValue) a\(storage == .f16 ? 16 : 32)"
                    let shapes = (format.isQuantized ? blocked : plain).filter { LinearOp.supports(variant, caps: caps, m: $0.0, k: $0.2, format: format) }
                    if shapes.isEmpty || SelftestData.unsupported(storage, caps) != nil {
                        cases.append(Case(op: "linear", variant: name, shape: "-",
                                          unsupported: SelftestData.unsupported(storage, caps) ?? "LinearOp.supports is false on this device",
                                          body: { _ in throw OpError("unsupported") }))
                        continue
                    }
                    for (i, (m, n, k)) in shapes.prefix(3).enumerated() {
                        let activation: LinearOp.Activation = [.none, .gelu, .silu][i % 3]
                        cases.append(Case(op: "linear", variant: name, shape: "\(m)x\(n)x\(k)\(activation == .none ? "" : " \(activation)")") { device in
                            try linear(device, m: m, n: n, k: k, format: format, storage: storage, activation: activation, bias: i != 2, variant: variant)
                        })
                    }
                }
            }
        }
        // Weights bound in row slices, as the LM head is where a binding cannot hold it whole.
        for variant in LinearOp.Variant.allCases {
            let (m, n, k) = (2, 61, 192)
            let limit = 9 * WeightFormat.q8.rowBytes(cols: k) + 4
            var c = Case(op: "linear", variant: "\(variant.rawValue) q8 a32 row slices", shape: "\(m)x\(n)x\(k), 9 rows a slice") { device in
                try linear(device, m: m, n: n, k: k, format: .q8, storage: .f32, activation: .silu, bias: true, variant: variant, bindingLimit: limit)
            }
            c.unsupported = LinearOp.supports(variant, caps: caps, m: m, k: k, format: .q8) ? nil : "LinearOp.supports is false on this device"
            cases.append(c)
        }
        for storage in SelftestData.storages {
            let name = "gemv swiglu-input a\(storage == .f16 ? 16 : 32)"
            for (m, n, k) in [(1, 130, 100), (3, 33, 36)] {
                var c = Case(op: "linear", variant: name, shape: "\(m)x\(n)x\(k)") { device in
                    try swiGLUInput(device, m: m, n: n, k: k, storage: storage)
                }
                c.unsupported = SelftestData.unsupported(storage, caps)
                    ?? (LinearOp.supports(.gemv, caps: caps, m: m, k: k) ? nil : "LinearOp.supports is false on this device")
                cases.append(c)
            }
        }
        cases += rmsNormInputCases(caps, plain: [(1, 130, 100), (3, 33, 36)], blocked: [(1, 5, 64), (3, 33, 192)])
        return cases + mixedStorageCases(caps)
    }

    /// The GEMV over rows under a folded RMSNorm per weight format and row storage, fp32 output
    /// over fp16 rows (the LM head) and fp16 output over fp32 rows (q/k/v and gate/up reading the
    /// residual stream); rows far from unit scale in both directions.
    static func rmsNormInputCases(_ caps: DeviceCapabilities, plain: [(Int, Int, Int)], blocked: [(Int, Int, Int)]) -> [Case] {
        var cases: [Case] = []
        for format in WeightFormat.allCases {
            for (storage, output) in [(StorageType.f32, StorageType.f32), (.f16, .f16), (.f16, .f32), (.f32, .f16)] {
                let name = "gemv rmsnorm-input \(format.rawValue) \(SelftestData.storageName(storage))" + (output == storage ? "" : output == .f32 ? " -> f32" : " -> f16")
                for (i, (m, n, k)) in (format.isQuantized ? blocked : plain).enumerated() {
                    // fp32 rows read into fp16 Y (q/k/v over the residual stream): far beyond fp16's range, the norm scales them back.
                    let scale: Float = i == 0 ? (storage == .f32 && output == .f16 ? 1e6 : 40) : 0.05
                    var c = Case(op: "linear", variant: name, shape: "\(m)x\(n)x\(k) rows x\(scale)") { device in
                        try rmsNormInput(device, m: m, n: n, k: k, format: format, storage: storage, output: output, scale: scale)
                    }
                    c.unsupported = SelftestData.unsupported(.f16, caps).flatMap { storage == .f16 || output == .f16 ? $0 : nil }
                        ?? (LinearOp.supports(.gemv, caps: caps, m: m, k: k, format: format) ? nil : "LinearOp.supports is false on this device")
                    cases.append(c)
                }
            }
        }
        return cases
    }

    /// y = residual + bias + RMSNorm(x) W^T; the normalised row is never stored, so only the
    /// stored rows, residual and output are rounded.
    static func rmsNormInput(_ device: Device, m: Int, n: Int, k: Int, format: WeightFormat, storage: StorageType, output: StorageType,
                             scale: Float) throws -> Comparison {
        let eps: Float = 1e-6
        let x = SelftestData.rounded(SelftestData.values(m * k, seed: UInt64(61 + k), scale: scale), to: storage)
        let g = SelftestData.values(k, seed: UInt64(62 + k), scale: 2)
        let w = SelftestData.values(n * k, seed: UInt64(63 + n), scale: 0.5)
        let b = SelftestData.values(n, seed: 64)
        let res = SelftestData.rounded(SelftestData.values(m * n, seed: 65), to: output)
        let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
        let (gx, gg, gb, gr) = (try SelftestData.upload(device, x, as: storage), try SelftestData.upload(device, g), try SelftestData.upload(device, b),
                                try SelftestData.upload(device, res, as: output))
        try SelftestData.run(device, "linear rmsnorm") {
            try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gr.view, m: m, residual: gr.view, activations: storage,
                                output: output, variant: .gemv, input: .rmsNorm(weight: gg.view, eps: eps))
        }
        let normed = Reference.rmsNorm(x, rows: m, width: k, weight: g, eps: eps)
        let lin = Reference.linear(x: normed, m: m, k: k, weight: WeightPacking.roundTrip(w, rows: n, cols: k, format: format), n: n, bias: b)
        return Comparison(got: try SelftestData.download(device, gr, m * n, as: output), want: (0..<m * n).map { res[$0] + lin[$0] },
                          tolerance: SelftestData.tolerance(output))
    }

    static func linear(_ device: Device, m: Int, n: Int, k: Int, format: WeightFormat, storage: StorageType,
                       activation: LinearOp.Activation, bias: Bool, variant: LinearOp.Variant?, bindingLimit: Int? = nil) throws -> Comparison {
        let x = SelftestData.rounded(SelftestData.values(m * k, seed: UInt64(m * 1000 + k)), to: storage)
        let w = SelftestData.values(n * k, seed: UInt64(n * 7 + k), scale: 0.5)
        let b = SelftestData.values(n, seed: UInt64(n))
        let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
        let (gx, gb, gy) = (try SelftestData.upload(device, x, as: storage), try SelftestData.upload(device, b),
                            try SelftestData.output(device, m * n, as: storage))
        try SelftestData.run(device, "linear") {
            try LinearOp.encode($0, x: gx.view, weight: weight, bias: bias ? gb.view : nil, y: gy.view, m: m, activation: activation,
                                activations: storage, variant: variant, bindingLimit: bindingLimit)
        }
        // The kernel's input is the weight as stored: quantization error is not the kernel's.
        let stored = WeightPacking.roundTrip(w, rows: n, cols: k, format: format)
        var want = Reference.linear(x: x, m: m, k: k, weight: stored, n: n, bias: bias ? b : nil)
        switch activation {
        case .none: break
        case .gelu: want = want.map(Reference.gelu)
        case .silu: want = want.map(Reference.silu)
        }
        return Comparison(got: try SelftestData.download(device, gy, m * n, as: storage), want: want, tolerance: SelftestData.tolerance(storage))
    }

    /// The GEMV over stacked [gate | up] rows (silu(gate) * up on load) with bias and residual.
    static func swiGLUInput(_ device: Device, m: Int, n: Int, k: Int, storage: StorageType) throws -> Comparison {
        let gateUp = SelftestData.rounded(SelftestData.values(m * 2 * k, seed: UInt64(41 + k), scale: 2), to: storage)
        let w = SelftestData.values(n * k, seed: UInt64(42 + n), scale: 0.5)
        let b = SelftestData.values(n, seed: 43)
        let res = SelftestData.rounded(SelftestData.values(m * n, seed: 44), to: storage)
        let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: .f32)
        let (gx, gb, gr) = (try SelftestData.upload(device, gateUp, as: storage), try SelftestData.upload(device, b),
                            try SelftestData.upload(device, res, as: storage))
        try SelftestData.run(device, "linear swiglu") {
            try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gr.view, m: m, residual: gr.view,
                                activations: storage, variant: .gemv, input: .swiGLU)
        }
        let lin = Reference.linear(x: SelftestData.swiGLU(gateUp, m: m, k: k), m: m, k: k, weight: w, n: n, bias: b)
        return Comparison(got: try SelftestData.download(device, gr, m * n, as: storage), want: (0..<m * n).map { res[$0] + lin[$0] },
                          tolerance: SelftestData.tolerance(storage))
    }
}
