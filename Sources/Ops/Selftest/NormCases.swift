import VulkanCore

extension Selftest {
    /// RMSNorm and LayerNorm over rows per activation storage; widths off the 128-lane workgroup.
    static func normCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        for kind in [RowNormOp.Kind.rms, .layer] {
            for storage in SelftestData.storages {
                for (rows, width) in [(1, 7), (3, 896), (17, 130)] {
                    var c = Case(op: kind == .rms ? "rmsnorm" : "layernorm", variant: SelftestData.storageName(storage), shape: "\(rows)x\(width)") { device in
                        try rowNorm(device, kind, rows: rows, width: width, storage: storage)
                    }
                    c.unsupported = SelftestData.unsupported(storage, caps)
                    cases.append(c)
                }
            }
        }
        // The fp32 residual stream normed into fp16 rows (prefill): rows far beyond fp16's range.
        for (rows, width) in [(1, 7), (3, 896), (700, 3)] {
            var c = Case(op: "rmsnorm", variant: "a32 -> f16", shape: "\(rows)x\(width) rows x\(SelftestData.wide)") { device in
                try rowNorm(device, .rms, rows: rows, width: width, storage: .f32, output: .f16, scale: SelftestData.wide)
            }
            c.unsupported = SelftestData.unsupported(.f16, caps)
            cases.append(c)
        }
        return cases
    }

    static func rowNorm(_ device: Device, _ kind: RowNormOp.Kind, rows: Int, width: Int, storage: StorageType, output: StorageType? = nil,
                        scale: Float = 3) throws -> Comparison {
        let output = output ?? storage
        let x = SelftestData.rounded(SelftestData.values(rows * width, seed: UInt64(rows * 31 + width), scale: scale), to: storage)
        let w = SelftestData.values(width, seed: 5, scale: 2)
        let b = SelftestData.values(width, seed: 6)
        let eps: Float = 1e-6
        let (gx, gw, gb, gy) = (try SelftestData.upload(device, x, as: storage), try SelftestData.upload(device, w), try SelftestData.upload(device, b),
                                try SelftestData.output(device, rows * width, as: output))
        try SelftestData.run(device, "row norm") {
            try RowNormOp.encode($0, kind, x: gx.view, weight: gw.view, bias: kind == .layer ? gb.view : nil, y: gy.view, rows: rows, width: width,
                                 eps: eps, activations: storage, output: output)
        }
        let want: [Float]
        switch kind {
        case .rms: want = Reference.rmsNorm(x, rows: rows, width: width, weight: w, eps: eps)
        case .layer:
            // Rows are pixels and the width is channels: the channel LayerNorm on a 1-wide map.
            let chw = Reference.layerNormChannels(SelftestData.chw(x, width, rows, 1), channels: width, height: rows, width: 1, gamma: w, beta: b, eps: eps)
            want = SelftestData.hwc(chw, width, rows, 1)
        }
        return Comparison(got: try SelftestData.download(device, gy, rows * width, as: output), want: want, tolerance: SelftestData.tolerance(output))
    }
}
