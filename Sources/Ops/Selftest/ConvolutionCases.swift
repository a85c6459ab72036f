import VulkanCore

extension Selftest {
    /// Dense conv2d and depthwise conv per work tile (each kernel class's, and a 1x1 / 3x3 one
    /// for odd edges), weight type, activation storage and kernel shape.
    static func convolutionCases(_ caps: DeviceCapabilities) -> [Case] {
        let policies = KernelPolicy.KernelClass.allCases.map { KernelPolicy(capabilities: caps, choice: $0 == .cpu ? .cpu : .gpu) }
        var cases: [Case] = []
        // (C_in, C_out, H, W, k, stride): the stem's 3 -> 96 3x3 s2 on odd sides, C_out off 4 and 8, a 5x5 kernel.
        let dense = [(3, 96, 17, 14, 3, 2), (3, 5, 7, 9, 3, 1), (4, 13, 11, 6, 5, 2)]
        var denseTiles: [Conv2DOp.Tile] = [Conv2DOp.Tile(width: 3, height: 3, channelGroups: 1)]
        for p in policies { for k in [3, 5] where !denseTiles.contains(p.conv2dTile(kernel: k)) { denseTiles.append(p.conv2dTile(kernel: k)) } }
        for tile in denseTiles {
            for weights in SelftestData.storages {
                for storage in SelftestData.storages {
                    let name = "tile \(tile.width)x\(tile.height)x\(tile.channelGroups) w\(weights == .f16 ? 16 : 32) \(SelftestData.storageName(storage))"
                    for (i, (cin, cout, h, w, k, s)) in dense.enumerated() {
                        var c = Case(op: "conv2d", variant: name, shape: "\(cin)->\(cout) \(h)x\(w) k\(k) s\(s)") { device in
                            try conv2d(device, cin: cin, cout: cout, h: h, w: w, k: k, s: s, weights: weights, storage: storage, tile: tile, gelu: i == 1)
                        }
                        c.unsupported = SelftestData.unsupported(storage, caps)
                        cases.append(c)
                    }
                }
            }
        }
        // (C_in, multiplier, H, W, k, stride): RepMixer 3x3, ConvFFN 7x7, stride 2, channel counts off vec4.
        let depthwise = [(8, 1, 9, 7, 3, 1), (12, 1, 10, 11, 7, 2), (5, 1, 13, 6, 3, 2), (4, 2, 15, 9, 7, 2), (6, 2, 5, 5, 3, 1), (3, 2, 1, 1, 7, 2)]
        var depthwiseTiles: [DepthwiseConv2DOp.Tile] = [DepthwiseConv2DOp.Tile(width: 3, height: 3)]
        for p in policies where !depthwiseTiles.contains(p.depthwiseTile) { depthwiseTiles.append(p.depthwiseTile) }
        for tile in depthwiseTiles {
            for multiplier in [1, 2] {
                for vec4 in [false, true] {
                    for storage in SelftestData.storages {
                        let name = "tile \(tile.width)x\(tile.height) x\(multiplier) \(vec4 ? "vec4" : "scalar") \(SelftestData.storageName(storage))"
                        let shapes = depthwise.filter { $0.1 == multiplier && (!vec4 || ($0.0 * $0.1) % 4 == 0) }
                        for (i, (cin, m, h, w, k, s)) in shapes.enumerated() {
                            var c = Case(op: "depthwise", variant: name, shape: "\(cin)x\(m) \(h)x\(w) k\(k) s\(s)") { device in
                                try depthwiseConv(device, cin: cin, m: m, h: h, w: w, k: k, s: s, storage: storage, vec4: vec4, tile: tile, gelu: i == 0)
                            }
                            c.unsupported = SelftestData.unsupported(storage, caps)
                            cases.append(c)
                        }
                    }
                }
            }
        }
        return cases
    }

    static func conv2d(_ device: Device, cin: Int, cout: Int, h: Int, w: Int, k: Int, s: Int, weights: StorageType, storage: StorageType,
                       tile: Conv2DOp.Tile?, gelu: Bool) throws -> Comparison {
        let x = SelftestData.rounded(SelftestData.values(cin * h * w, seed: UInt64(10 + cin * h), scale: 2), to: storage)
        let wt = SelftestData.rounded(SelftestData.values(cout * cin * k * k, seed: UInt64(20 + cout), scale: 1 / Float(cin * k * k).squareRoot()), to: weights)
        let b = SelftestData.values(cout, seed: UInt64(30 + cout))
        let (oh, ow) = (Conv2DOp.outputSize(h, kernel: k, stride: s), Conv2DOp.outputSize(w, kernel: k, stride: s))
        let weight = try Conv2DOp.Weight(device: device, values: wt, bias: b, outChannels: cout, inChannels: cin, kernel: k, type: weights)
        let (gx, gy) = (try SelftestData.upload(device, SelftestData.hwc(x, cin, h, w), as: storage), try SelftestData.output(device, oh * ow * cout, as: storage))
        try SelftestData.run(device, "conv2d") {
            try Conv2DOp.encode($0, x: gx.view, weight: weight, y: gy.view, height: h, width: w, stride: s, gelu: gelu, activations: storage, tile: tile)
        }
        var want = Reference.conv2d(x, channels: cin, height: h, width: w, weight: wt, outChannels: cout, kernel: k, stride: s, groups: 1, bias: b)
        if gelu { want = want.map(Reference.gelu) }
        let got = SelftestData.chw(try SelftestData.download(device, gy, oh * ow * cout, as: storage), cout, oh, ow)
        return Comparison(got: got, want: want, tolerance: SelftestData.tolerance(storage))
    }

    static func depthwiseConv(_ device: Device, cin: Int, m: Int, h: Int, w: Int, k: Int, s: Int, storage: StorageType, vec4: Bool?,
                              tile: DepthwiseConv2DOp.Tile?, gelu: Bool) throws -> Comparison {
        let cout = cin * m
        let x = SelftestData.rounded(SelftestData.values(cin * h * w, seed: UInt64(40 + cin * h), scale: 2), to: storage)
        let wt = SelftestData.values(cout * k * k, seed: UInt64(50 + cout), scale: 0.5)
        let b = SelftestData.values(cout, seed: UInt64(60 + cout))
        let (oh, ow) = (DepthwiseConv2DOp.outputSize(h, kernel: k, stride: s), DepthwiseConv2DOp.outputSize(w, kernel: k, stride: s))
        let weight = try DepthwiseConv2DOp.Weight(device: device, values: wt, bias: b, inChannels: cin, multiplier: m, kernel: k)
        let (gx, gy) = (try SelftestData.upload(device, SelftestData.hwc(x, cin, h, w), as: storage), try SelftestData.output(device, oh * ow * cout, as: storage))
        try SelftestData.run(device, "depthwise") {
            try DepthwiseConv2DOp.encode($0, x: gx.view, weight: weight, y: gy.view, height: h, width: w, stride: s, gelu: gelu,
                                         activations: storage, vectorized: vec4, tile: tile)
        }
        var want = Reference.conv2d(x, channels: cin, height: h, width: w, weight: wt, outChannels: cout, kernel: k, stride: s, groups: cin, bias: b)
        if gelu { want = want.map(Reference.gelu) }
        let got = SelftestData.chw(try SelftestData.download(device, gy, oh * ow * cout, as: storage), cout, oh, ow)
        return Comparison(got: got, want: want, tolerance: SelftestData.tolerance(storage))
    }
}
