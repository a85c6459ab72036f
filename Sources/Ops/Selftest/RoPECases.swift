import VulkanCore

extension Selftest {
    /// RoPE in place, and the fused form that also appends k and v to the caches, at positions > 0.
    static func ropeCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        for (t, p0, heads, kvHeads, hd) in [(1, 0, 2, 1, 16), (3, 17, 14, 2, 64), (5, 100, 4, 2, 128)] {
            let shape = "T\(t) p0 \(p0) heads \(heads)/\(kvHeads) hd\(hd)"
            cases.append(Case(op: "rope", variant: "in place", shape: shape) { device in
                try rope(device, t: t, p0: p0, heads: heads, kvHeads: kvHeads, hd: hd, appendToCache: false)
            })
            cases.append(Case(op: "rope", variant: "kv append", shape: shape) { device in
                try rope(device, t: t, p0: p0, heads: heads, kvHeads: kvHeads, hd: hd, appendToCache: true)
            })
        }
        return cases
    }

    /// Compares q followed by k (in place) or by the appended kCache and vCache rows.
    static func rope(_ device: Device, t: Int, p0: Int, heads: Int, kvHeads: Int, hd: Int, appendToCache: Bool) throws -> Comparison {
        let theta: Float = 1_000_000
        let (qw, kw) = (heads * hd, kvHeads * hd)
        let q = SelftestData.values(t * qw, seed: UInt64(t + hd), scale: 2)
        let k = SelftestData.values(t * kw, seed: UInt64(t + hd + 1), scale: 2)
        let v = SelftestData.values(t * kw, seed: UInt64(t + hd + 2))
        let capacity = p0 + t + 3
        let (gq, gk, gv) = (try SelftestData.upload(device, q), try SelftestData.upload(device, k), try SelftestData.upload(device, v))
        let (kCache, vCache) = (try SelftestData.output(device, capacity * kw), try SelftestData.output(device, capacity * kw))
        let frequencies = try RoPEOp.frequencyTable(device, headDim: hd, theta: theta)
        let position = try device.upload([UInt32(p0)])
        try SelftestData.run(device, "rope") {
            if appendToCache {
                try RoPEOp.encode($0, q: gq.view, k: gk.view, v: gv.view, kCache: kCache.view, vCache: vCache.view, frequencies: frequencies.view,
                                  position: position.view, tokens: t, heads: heads, kvHeads: kvHeads, headDim: hd, capacity: capacity)
            } else {
                try RoPEOp.encode($0, q: gq.view, k: gk.view, frequencies: frequencies.view, position: position.view, tokens: t, heads: heads,
                                  kvHeads: kvHeads, headDim: hd)
            }
        }
        var (wantQ, wantK) = (q, k)
        Reference.rope(&wantQ, tokens: t, heads: heads, headDim: hd, firstPosition: p0, theta: theta)
        Reference.rope(&wantK, tokens: t, heads: kvHeads, headDim: hd, firstPosition: p0, theta: theta)
        let gotQ = try SelftestData.download(device, gq, t * qw)
        if !appendToCache {
            return Comparison(got: gotQ + (try SelftestData.download(device, gk, t * kw)), want: wantQ + wantK, tolerance: SelftestData.tolerance(.f32))
        }
        let rows = p0 * kw ..< (p0 + t) * kw
        let gotK = Array(try SelftestData.download(device, kCache, capacity * kw)[rows])
        let gotV = Array(try SelftestData.download(device, vCache, capacity * kw)[rows])
        return Comparison(got: gotQ + gotK + gotV, want: wantQ + wantK + v, tolerance: SelftestData.tolerance(.f32))
    }
}
