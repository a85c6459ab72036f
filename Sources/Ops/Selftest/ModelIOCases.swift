import VulkanCore

extension Selftest {
    /// Token embedding per table format and output storage (image ids left untouched), and the
    /// splice of fp32 image rows into the embedded rows per storage.
    static func embeddingCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        for format in WeightFormat.allCases {
            for storage in SelftestData.storages {
                let (vocab, hidden) = (37, 64)
                var k = Case(op: "embedding", variant: "\(format.rawValue) \(SelftestData.storageName(storage))", shape: "vocab \(vocab) x \(hidden), 6 ids") { device in
                    try embedding(device, vocab: vocab, hidden: hidden, format: format, storage: storage)
                }
                k.unsupported = SelftestData.unsupported(storage, caps)
                cases.append(k)
            }
        }
        // T rows, hidden, image rows, first image row taken, row it lands on, rows spliced: offsets off any alignment.
        for storage in SelftestData.storages {
            for (t, hidden, imageRows, row, first, count) in [(10, 8, 4, 0, 3, 4), (9, 7, 6, 3, 1, 2)] {
                var k = Case(op: "embedding", variant: "splice \(SelftestData.storageName(storage))",
                             shape: "T\(t) x \(hidden), image rows \(row)..<\(row + count) at \(first)") { device in
                    let image = SelftestData.values(imageRows * hidden, seed: UInt64(hidden), scale: 30)
                    let base = SelftestData.rounded(SelftestData.values(t * hidden, seed: 4), to: storage)
                    let (gimage, gout) = (try SelftestData.upload(device, image), try SelftestData.upload(device, base, as: storage))
                    try SelftestData.run(device, "embedding splice") {
                        try EmbeddingOp.splice($0, rows: gimage.view, from: row, into: gout.view, at: first, count: count, hidden: hidden, activations: storage)
                    }
                    var want = base
                    want.replaceSubrange(first * hidden ..< (first + count) * hidden,
                                         with: SelftestData.rounded(Array(image[row * hidden ..< (row + count) * hidden]), to: storage))
                    return Comparison(got: try SelftestData.download(device, gout, t * hidden, as: storage), want: want, tolerance: 0, exact: true)
                }
                k.unsupported = SelftestData.unsupported(storage, caps)
                cases.append(k)
            }
        }
        return cases
    }

    /// Rows of the table as stored, rounded once to fp16 for fp16 output: exact, except that a
    /// dequantized value within fp32 rounding of an fp16 rounding boundary may round either way.
    static func embedding(_ device: Device, vocab: Int, hidden: Int, format: WeightFormat, storage: StorageType) throws -> Comparison {
        let table = SelftestData.values(vocab * hidden, seed: 12)
        let ids: [UInt32] = [0, 36, 5, EmbeddingOp.imageToken, 5, 17]
        let weight = try LinearWeight(device: device, values: table, rows: vocab, cols: hidden, format: format)
        let (gids, gout) = (try device.upload(ids), try SelftestData.upload(device, [Float](repeating: 7, count: ids.count * hidden), as: storage))
        try SelftestData.run(device, "embedding") {
            try EmbeddingOp.encode($0, table: weight, ids: gids.view, out: gout.view, tokens: ids.count, activations: storage)
        }
        let stored = SelftestData.rounded(WeightPacking.roundTrip(table, rows: vocab, cols: hidden, format: format), to: storage)
        let want = ids.flatMap { id -> [Float] in
            id == EmbeddingOp.imageToken ? [Float](repeating: 7, count: hidden) : Array(stored[Int(id) * hidden ..< Int(id + 1) * hidden])
        }
        let got = try SelftestData.download(device, gout, ids.count * hidden, as: storage)
        if format.isQuantized && storage == .f16 { return Comparison(got: got, want: want, tolerance: SelftestData.tolerance(.f16)) }
        return Comparison(got: got, want: want, tolerance: 0, exact: true)
    }

    /// Squeeze-excite per weight format and activation storage; channel counts off the mean workgroup's lanes.
    static func squeezeExciteCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        for format in [WeightFormat.f32, .f16] {
            for storage in SelftestData.storages {
                for (c, r, p) in [(5, 3, 7), (96, 24, 50)] {
                    var k = Case(op: "squeeze-excite", variant: "\(format.rawValue) \(SelftestData.storageName(storage))", shape: "C\(c) R\(r) P\(p)") { device in
                        try squeezeExcite(device, c: c, r: r, p: p, format: format, storage: storage)
                    }
                    k.unsupported = SelftestData.unsupported(storage, caps)
                    cases.append(k)
                }
            }
        }
        return cases
    }

    static func squeezeExcite(_ device: Device, c: Int, r: Int, p: Int, format: WeightFormat, storage: StorageType) throws -> Comparison {
        let offsets = SelftestData.values(c, seed: 90, scale: 3)
        let x = SelftestData.rounded(SelftestData.values(p * c, seed: 40, scale: 2).enumerated().map { $0.element + offsets[$0.offset % c] }, to: storage)
        let w1 = SelftestData.values(r * c, seed: 50, scale: 2 / Float(c).squareRoot())
        let w2 = SelftestData.values(c * r, seed: 60, scale: 2 / Float(r).squareRoot())
        let (b1, b2) = (SelftestData.values(r, seed: 70, scale: 0.5), SelftestData.values(c, seed: 80))
        let reduce = try LinearWeight(device: device, values: w1, rows: r, cols: c, format: format)
        let expand = try LinearWeight(device: device, values: w2, rows: c, cols: r, format: format)
        let (gx, gb1, gb2) = (try SelftestData.upload(device, x, as: storage), try SelftestData.upload(device, b1), try SelftestData.upload(device, b2))
        let gy = try SelftestData.output(device, p * c, as: storage)
        let scratch = try SelftestData.output(device, SqueezeExciteOp.scratchFloats(channels: c, reduced: r))
        try SelftestData.run(device, "squeeze-excite") {
            try SqueezeExciteOp.encode($0, x: gx.view, y: gy.view, pixels: p, channels: c, reduce: reduce, reduceBias: gb1.view,
                                       expand: expand, expandBias: gb2.view, scratch: scratch.view, activations: storage)
        }
        let want = Reference.squeezeExcite(SelftestData.chw(x, c, p, 1), channels: c, pixels: p,
                                           reduceWeight: WeightPacking.roundTrip(w1, rows: r, cols: c, format: format), reduceBias: b1, reduced: r,
                                           expandWeight: WeightPacking.roundTrip(w2, rows: c, cols: r, format: format), expandBias: b2)
        let got = SelftestData.chw(try SelftestData.download(device, gy, p * c, as: storage), c, p, 1)
        return Comparison(got: got, want: want, tolerance: SelftestData.tolerance(storage))
    }

    /// Argmax and sampling (greedy and top-k / top-p draws) against the reference's choice.
    static func samplingCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        for n in [1, 257, 4099] {
            cases.append(Case(op: "argmax", variant: "two-pass", shape: "\(n)") { device in
                let logits = SelftestData.values(n, seed: UInt64(n), scale: 8)
                let (gl, result) = (try SelftestData.upload(device, logits), try device.upload([UInt32.max]))
                let scratch = try device.allocate(bytes: ArgmaxOp.scratchBytes(count: n))
                try SelftestData.run(device, "argmax") { try ArgmaxOp.encode($0, logits: gl.view, count: n, scratch: scratch.view, result: result.view) }
                let got = try device.download(result.view, as: UInt32.self, count: 1)
                return Comparison(got: got.map { Float($0) }, want: [Float(Reference.argmax(logits))], tolerance: 0, exact: true)
            })
        }
        let settings = [SamplingParameters(), SamplingParameters(temperature: 0.7, topK: 40, topP: 0.9), SamplingParameters(temperature: 1.3, topK: 0, topP: 1)]
        for (i, parameters) in settings.enumerated() {
            for n in [7, 4099] {
                let variant = parameters.temperature == 0 ? "greedy" : "t \(parameters.temperature) top-k \(parameters.topK) top-p \(parameters.topP)"
                cases.append(Case(op: "sample", variant: variant, shape: "\(n), 4 draws") { device in
                    let logits = SelftestData.values(n, seed: UInt64(n + i), scale: 4)
                    let gl = try SelftestData.upload(device, logits)
                    var (got, want): ([Float], [Float]) = ([], [])
                    for draw: Float in [0, 0.31, 0.77, 0.999] {
                        let (params, result) = (try device.upload(SampleOp.parameterWords(parameters, draw: draw)), try device.upload([UInt32.max]))
                        try SelftestData.run(device, "sample") { try SampleOp.encode($0, logits: gl.view, count: n, parameters: params.view, result: result.view) }
                        got.append(Float(try device.download(result.view, as: UInt32.self, count: 1)[0]))
                        want.append(Float(Reference.sample(logits, parameters: parameters, uniform: draw)))
                    }
                    return Comparison(got: got, want: want, tolerance: 0, exact: true)
                })
            }
        }
        return cases
    }

    /// CHW <-> HWC transposes (fp32 or fp16 output) and the fp16 <-> fp32 conversions.
    static func layoutCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        for (c, h, w) in [(3, 5, 7), (96, 17, 9)] {
            for storage in SelftestData.storages {
                var k = Case(op: "layout", variant: "chw->hwc \(SelftestData.storageName(storage))", shape: "\(c)x\(h)x\(w)") { device in
                    let x = SelftestData.rounded(SelftestData.values(c * h * w, seed: 2), to: storage)
                    let (gx, gy) = (try SelftestData.upload(device, x), try SelftestData.output(device, c * h * w, as: storage))
                    try SelftestData.run(device, "layout") { try LayoutOp.chwToHWC($0, x: gx.view, y: gy.view, channels: c, height: h, width: w, activations: storage) }
                    return Comparison(got: try SelftestData.download(device, gy, c * h * w, as: storage), want: SelftestData.hwc(x, c, h, w), tolerance: 0, exact: true)
                }
                k.unsupported = SelftestData.unsupported(storage, caps)
                cases.append(k)
            }
            cases.append(Case(op: "layout", variant: "hwc->chw a32", shape: "\(c)x\(h)x\(w)") { device in
                let x = SelftestData.values(c * h * w, seed: 3)
                let (gx, gy) = (try SelftestData.upload(device, x), try SelftestData.output(device, c * h * w))
                try SelftestData.run(device, "layout") { try LayoutOp.hwcToCHW($0, x: gx.view, y: gy.view, channels: c, height: h, width: w) }
                return Comparison(got: try SelftestData.download(device, gy, c * h * w), want: SelftestData.chw(x, c, h, w), tolerance: 0, exact: true)
            })
        }
        for count in [1, 1001] {
            var k = Case(op: "convert", variant: "f16->f32", shape: "\(count)") { device in
                let x = SelftestData.rounded(SelftestData.values(count, seed: 9, scale: 100), to: .f16)
                let (gx, gy) = (try SelftestData.upload(device, x, as: .f16), try SelftestData.output(device, count))
                try SelftestData.run(device, "convert") { try ConvertOp.halfToFloat($0, x: gx.view, y: gy.view, count: count) }
                return Comparison(got: try SelftestData.download(device, gy, count), want: x, tolerance: 0, exact: true)
            }
            k.unsupported = SelftestData.unsupported(.f16, caps)
            cases.append(k)
        }
        // Round to nearest, at element offsets no binding could take.
        for (count, xOffset, yOffset) in [(1, 0, 0), (1001, 3, 5)] {
            var k = Case(op: "convert", variant: "f32->f16", shape: "\(count) at \(xOffset) -> \(yOffset)") { device in
                let x = SelftestData.values(xOffset + count, seed: 10, scale: 100)
                let (gx, gy) = (try SelftestData.upload(device, x), try SelftestData.output(device, yOffset + count, as: .f16))
                try SelftestData.run(device, "convert") { try ConvertOp.floatToHalf($0, x: gx.view, xOffset: xOffset, y: gy.view, yOffset: yOffset, count: count) }
                return Comparison(got: Array(try SelftestData.download(device, gy, yOffset + count, as: .f16)[yOffset...]),
                                  want: SelftestData.rounded(Array(x[xOffset...]), to: .f16), tolerance: 0, exact: true)
            }
            k.unsupported = SelftestData.unsupported(.f16, caps)
            cases.append(k)
        }
        return cases
    }
}
