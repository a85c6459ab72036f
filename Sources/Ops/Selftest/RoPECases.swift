import VulkanCore

extension Selftest {
    /// RoPE in place per activation storage, and the fused form that also appends k and v to the
    /// caches per (activation, cache) storage pair, at positions > 0.
    static func ropeCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        for (t, p0, heads, kvHeads, hd) in [(1, 0, 2, 1, 16), (3, 17, 14, 2, 64), (5, 100, 4, 2, 128)] {
            let shape = "T\(t) p0 \(p0) heads \(heads)/\(kvHeads) hd\(hd)"
            for act in SelftestData.storages {
                var k = Case(op: "rope", variant: "in place \(SelftestData.storageName(act))", shape: shape) { device in
                    try rope(device, t: t, p0: p0, heads: heads, kvHeads: kvHeads, hd: hd, act: act, cache: nil)
                }
                k.unsupported = SelftestData.unsupported(act, caps)
                cases.append(k)
            }
            for (act, cache) in SelftestData.storagePairs {
                var k = Case(op: "rope", variant: "kv append \(SelftestData.storageName(act)) \(SelftestData.cacheName(cache))", shape: shape) { device in
                    try rope(device, t: t, p0: p0, heads: heads, kvHeads: kvHeads, hd: hd, act: act, cache: cache)
                }
                k.unsupported = SelftestData.unsupported(act, caps) ?? SelftestData.unsupported(cache, caps)
                cases.append(k)
            }
        }
        return cases
    }

    /// Compares q followed by k (in place, `cache` nil) or by the appended kCache and vCache rows.
    /// The reference takes the inputs as stored and rounds once what the kernel stores in fp16.
    static func rope(_ device: Device, t: Int, p0: Int, heads: Int, kvHeads: Int, hd: Int, act: StorageType, cache: StorageType?) throws -> Comparison {
        let theta: Float = 1_000_000
        let (qw, kw) = (heads * hd, kvHeads * hd)
        let q = SelftestData.rounded(SelftestData.values(t * qw, seed: UInt64(t + hd), scale: 2), to: act)
        let k = SelftestData.rounded(SelftestData.values(t * kw, seed: UInt64(t + hd + 1), scale: 2), to: act)
        let v = SelftestData.rounded(SelftestData.values(t * kw, seed: UInt64(t + hd + 2)), to: act)
        let capacity = p0 + t + 3
        let (gq, gk, gv) = (try SelftestData.upload(device, q, as: act), try SelftestData.upload(device, k, as: act), try SelftestData.upload(device, v, as: act))
        let (kCache, vCache) = (try SelftestData.output(device, capacity * kw, as: cache ?? .f32), try SelftestData.output(device, capacity * kw, as: cache ?? .f32))
        let frequencies = try RoPEOp.frequencyTable(device, headDim: hd, theta: theta)
        let position = try device.upload([UInt32(p0)])
        try SelftestData.run(device, "rope") {
            if let cache {
                try RoPEOp.encode($0, q: gq.view, k: gk.view, v: gv.view, kCache: kCache.view, vCache: vCache.view, frequencies: frequencies.view,
                                  position: position.view, tokens: t, heads: heads, kvHeads: kvHeads, headDim: hd, capacity: capacity,
                                  activations: act, cache: cache)
            } else {
                try RoPEOp.encode($0, q: gq.view, k: gk.view, frequencies: frequencies.view, position: position.view, tokens: t, heads: heads,
                                  kvHeads: kvHeads, headDim: hd, activations: act)
            }
        }
        var (wantQ, wantK) = (q, k)
        Reference.rope(&wantQ, tokens: t, heads: heads, headDim: hd, firstPosition: p0, theta: theta)
        Reference.rope(&wantK, tokens: t, heads: kvHeads, headDim: hd, firstPosition: p0, theta: theta)
        let gotQ = try SelftestData.download(device, gq, t * qw, as: act)
        let tolerance = SelftestData.tolerance(act == .f16 || cache == .f16 ? .f16 : .f32)
        guard let cache else {
            return Comparison(got: gotQ + (try SelftestData.download(device, gk, t * kw, as: act)),
                              want: SelftestData.rounded(wantQ + wantK, to: act), tolerance: tolerance)
        }
        let rows = p0 * kw ..< (p0 + t) * kw
        let gotK = Array(try SelftestData.download(device, kCache, capacity * kw, as: cache)[rows])
        let gotV = Array(try SelftestData.download(device, vCache, capacity * kw, as: cache)[rows])
        return Comparison(got: gotQ + gotK + gotV,
                          want: SelftestData.rounded(wantQ, to: act) + SelftestData.rounded(wantK, to: cache) + SelftestData.rounded(v, to: cache),
                          tolerance: tolerance)
    }
}
