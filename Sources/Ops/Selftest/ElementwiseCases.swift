import VulkanCore

extension Selftest {
    /// Softmax over rows (fp32), and the elementwise kernels and SwiGLU per activation storage.
    static func rowCases(_ caps: DeviceCapabilities) -> [Case] {
        [(1, 1), (3, 130), (7, 1000)].map { rows, width in
            Case(op: "softmax", variant: "a32", shape: "\(rows)x\(width)") { device in
                let x = SelftestData.values(rows * width, seed: UInt64(width), scale: 8)
                let (gx, gy) = (try SelftestData.upload(device, x), try SelftestData.output(device, rows * width))
                try SelftestData.run(device, "softmax") { try SoftmaxOp.encode($0, x: gx.view, y: gy.view, rows: rows, width: width) }
                return Comparison(got: try SelftestData.download(device, gy, rows * width), want: Reference.softmax(x, rows: rows, width: width),
                                  tolerance: SelftestData.tolerance(.f32))
            }
        }
    }

    static func elementwiseCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        let kinds: [(ElementwiseOp.Kind, String, (Float, Float) -> Float)] = [
            (.add, "add", Reference.add), (.mul, "mul", Reference.mul),
            (.gelu, "gelu", { a, _ in Reference.gelu(a) }), (.silu, "silu", { a, _ in Reference.silu(a) }),
        ]
        for (kind, name, reference) in kinds {
            for storage in SelftestData.storages {
                for count in [1, 1001] {
                    var c = Case(op: "elementwise", variant: "\(name) \(SelftestData.storageName(storage))", shape: "\(count)") { device in
                        let a = SelftestData.rounded(SelftestData.values(count, seed: 3, scale: 4), to: storage)
                        let b = SelftestData.rounded(SelftestData.values(count, seed: 4, scale: 2), to: storage)
                        let (ga, gb, gy) = (try SelftestData.upload(device, a, as: storage), try SelftestData.upload(device, b, as: storage),
                                            try SelftestData.output(device, count, as: storage))
                        try SelftestData.run(device, "elementwise") {
                            try ElementwiseOp.encode($0, kind, a: ga.view, b: kind == .add || kind == .mul ? gb.view : nil, y: gy.view, count: count,
                                                     activations: storage)
                        }
                        return Comparison(got: try SelftestData.download(device, gy, count, as: storage), want: zip(a, b).map(reference),
                                          tolerance: SelftestData.tolerance(storage))
                    }
                    c.unsupported = SelftestData.unsupported(storage, caps)
                    cases.append(c)
                }
            }
        }
        for storage in SelftestData.storages {
            for (rows, width) in [(1, 7), (5, 300)] {
                var c = Case(op: "swiglu", variant: SelftestData.storageName(storage), shape: "\(rows)x\(width)") { device in
                    let x = SelftestData.rounded(SelftestData.values(rows * 2 * width, seed: 8, scale: 3), to: storage)
                    let (gx, gy) = (try SelftestData.upload(device, x, as: storage), try SelftestData.output(device, rows * width, as: storage))
                    try SelftestData.run(device, "swiglu") { try SwiGLUOp.encode($0, x: gx.view, y: gy.view, rows: rows, width: width, activations: storage) }
                    return Comparison(got: try SelftestData.download(device, gy, rows * width, as: storage),
                                      want: Reference.swiGLU(x, rows: rows, width: width), tolerance: SelftestData.tolerance(storage))
                }
                c.unsupported = SelftestData.unsupported(storage, caps)
                cases.append(c)
            }
        }
        return cases
    }
}
