import VulkanCore

extension Selftest {
    /// Flash attention (vision, no mask; causal prefill) per AttentionVariant and storage, and
    /// split-K decode attention per DecodeAttentionOp.Variant at each class's split count; the
    /// causal kernels per (activation, KV cache) storage pair.
    static func attentionCases(_ caps: DeviceCapabilities) -> [Case] {
        var cases: [Case] = []
        // (tokens, channels, head dim): one token, N off the row block and the key tile, hd 16 and 64.
        let vision = [(1, 32, 32), (65, 64, 32), (33, 64, 16), (47, 128, 64)]
        for variant in AttentionVariant.allCases {
            for storage in SelftestData.storages {
                for (n, c, hd) in vision {
                    var k = Case(op: "vision attention", variant: "\(variant.rawValue) \(SelftestData.storageName(storage))", shape: "N\(n) C\(c) hd\(hd)") { device in
                        try visionAttention(device, n: n, c: c, hd: hd, storage: storage, variant: variant)
                    }
                    k.unsupported = SelftestData.unsupported(storage, caps)
                    cases.append(k)
                }
            }
        }
        // T new rows after p0 cached ones, GQA heads / kv heads, hd, capacity: T off the row block, p0 > 0.
        let prefill = [CausalShape(t: 5, p0: 0, heads: 4, kvHeads: 2, hd: 16, capacity: 16),
                       CausalShape(t: 70, p0: 0, heads: 7, kvHeads: 1, hd: 64, capacity: 80),
                       CausalShape(t: 33, p0: 40, heads: 4, kvHeads: 2, hd: 64, capacity: 100)]
        for variant in AttentionVariant.allCases {
            for (act, cache) in SelftestData.storagePairs {
                for s in prefill {
                    var k = Case(op: "causal attention", variant: "\(variant.rawValue) \(pairName(act, cache))", shape: s.description) { device in
                        try causalAttention(device, s, variant: variant, act: act, cache: cache)
                    }
                    k.unsupported = SelftestData.unsupported(act, caps) ?? SelftestData.unsupported(cache, caps)
                    cases.append(k)
                }
            }
        }
        // One token at a length off the split count, two tokens, GQA 7/1 and 12/2, hd 128.
        let decode = [CausalShape(t: 1, p0: 0, heads: 2, kvHeads: 1, hd: 32, capacity: 4),
                      CausalShape(t: 1, p0: 199, heads: 7, kvHeads: 1, hd: 64, capacity: 300),
                      CausalShape(t: 2, p0: 100, heads: 4, kvHeads: 2, hd: 16, capacity: 128),
                      CausalShape(t: 1, p0: 150, heads: 12, kvHeads: 2, hd: 128, capacity: 160)]
        let splitCounts = Array(Set(KernelPolicy.KernelClass.allCases.map {
            KernelPolicy(capabilities: caps, choice: $0 == .cpu ? .cpu : .gpu).decodeAttentionSplits
        } + [3])).sorted()
        for variant in DecodeAttentionOp.Variant.allCases {
            for (act, cache) in SelftestData.storagePairs {
                for splits in splitCounts {
                    for s in decode {
                        var k = Case(op: "decode attention", variant: "\(variant.rawValue) \(pairName(act, cache)) splits \(splits)", shape: s.description) { device in
                            try decodeAttention(device, s, splits: splits, variant: variant, act: act, cache: cache)
                        }
                        k.unsupported = SelftestData.unsupported(act, caps) ?? SelftestData.unsupported(cache, caps)
                        if !DecodeAttentionOp.supports(tokens: s.t, heads: s.heads, kvHeads: s.kvHeads, headDim: s.hd, caps: caps, variant: variant) {
                            k.unsupported = "DecodeAttentionOp.supports is false on this device"
                        }
                        cases.append(k)
                    }
                }
            }
        }
        return cases
    }

    static func pairName(_ act: StorageType, _ cache: StorageType) -> String {
        SelftestData.storageName(act) + " " + SelftestData.cacheName(cache)
    }

    struct CausalShape: CustomStringConvertible {
        var t: Int, p0: Int, heads: Int, kvHeads: Int, hd: Int, capacity: Int
        var description: String { "T\(t) p0 \(p0) heads \(heads)/\(kvHeads) hd\(hd)" }

        /// Caches hold random rows below p0 + T and NaN beyond: a kernel reading past the
        /// length turns its output into NaN. q is rounded to `act`, the caches to `cache`, as
        /// the kernel reads them.
        func inputs(seed: UInt64, act: StorageType = .f32, cache: StorageType = .f32) -> (q: [Float], k: [Float], v: [Float]) {
            let l = p0 + t, w = kvHeads * hd
            let nan = [Float](repeating: .nan, count: (capacity - l) * w)
            return (SelftestData.rounded(SelftestData.values(t * heads * hd, seed: seed, scale: 2), to: act),
                    SelftestData.rounded(SelftestData.values(l * w, seed: seed + 1, scale: 2), to: cache) + nan,
                    SelftestData.rounded(SelftestData.values(l * w, seed: seed + 2), to: cache) + nan)
        }

        func expected(_ x: (q: [Float], k: [Float], v: [Float])) -> [Float] {
            let l = p0 + t, w = kvHeads * hd
            return Reference.causalAttention(q: x.q, tokens: t, keys: Array(x.k[0..<l * w]), values: Array(x.v[0..<l * w]), length: l,
                                             heads: heads, kvHeads: kvHeads, headDim: hd)
        }
    }

    static func visionAttention(_ device: Device, n: Int, c: Int, hd: Int, storage: StorageType, variant: AttentionVariant?) throws -> Comparison {
        let qkv = SelftestData.rounded(SelftestData.values(n * 3 * c, seed: UInt64(n * 131 + c + hd), scale: 3), to: storage)
        let (gqkv, gout) = (try SelftestData.upload(device, qkv, as: storage), try SelftestData.output(device, n * c, as: storage))
        try SelftestData.run(device, "vision attention") {
            try VisionAttentionOp.encode($0, qkv: gqkv.view, out: gout.view, tokens: n, channels: c, headDim: hd, activations: storage, variant: variant)
        }
        return Comparison(got: try SelftestData.download(device, gout, n * c, as: storage),
                          want: Reference.multiHeadAttention(qkv: qkv, count: n, channels: c, headDim: hd), tolerance: SelftestData.tolerance(storage))
    }

    static func causalAttention(_ device: Device, _ s: CausalShape, variant: AttentionVariant?, act: StorageType = .f32,
                                cache: StorageType = .f32) throws -> Comparison {
        let x = s.inputs(seed: UInt64(s.t * 100 + s.p0), act: act, cache: cache)
        let (gq, gk, gv) = (try SelftestData.upload(device, x.q, as: act), try SelftestData.upload(device, x.k, as: cache),
                            try SelftestData.upload(device, x.v, as: cache))
        let (gout, pos) = (try SelftestData.output(device, s.t * s.heads * s.hd, as: act), try device.upload([UInt32(s.p0)]))
        try SelftestData.run(device, "causal attention") {
            try CausalAttentionOp.encode($0, q: gq.view, kCache: gk.view, vCache: gv.view, out: gout.view, position: pos.view,
                                         tokens: s.t, heads: s.heads, kvHeads: s.kvHeads, headDim: s.hd, capacity: s.capacity, variant: variant,
                                         activations: act, cache: cache)
        }
        return Comparison(got: try SelftestData.download(device, gout, s.t * s.heads * s.hd, as: act), want: s.expected(x),
                          tolerance: SelftestData.tolerance(act))
    }

    static func decodeAttention(_ device: Device, _ s: CausalShape, splits: Int, variant: DecodeAttentionOp.Variant?, act: StorageType = .f32,
                                cache: StorageType = .f32) throws -> Comparison {
        let x = s.inputs(seed: UInt64(s.t * 100 + s.p0 + 7), act: act, cache: cache)
        let (gq, gk, gv) = (try SelftestData.upload(device, x.q, as: act), try SelftestData.upload(device, x.k, as: cache),
                            try SelftestData.upload(device, x.v, as: cache))
        let (gout, pos) = (try SelftestData.output(device, s.t * s.heads * s.hd, as: act), try device.upload([UInt32(s.p0)]))
        let bytes = DecodeAttentionOp.scratchBytes(tokens: s.t, heads: s.heads, kvHeads: s.kvHeads, headDim: s.hd, splits: splits,
                                                   caps: device.capabilities, variant: variant ?? device.kernelPolicy.decodeAttention)
        let scratch = try device.allocate(bytes: bytes)
        try SelftestData.run(device, "decode attention") {
            try DecodeAttentionOp.encode($0, q: gq.view, kCache: gk.view, vCache: gv.view, out: gout.view, position: pos.view, scratch: scratch.view,
                                         tokens: s.t, heads: s.heads, kvHeads: s.kvHeads, headDim: s.hd, capacity: s.capacity, splits: splits, variant: variant,
                                         activations: act, cache: cache)
        }
        return Comparison(got: try SelftestData.download(device, gout, s.t * s.heads * s.hd, as: act), want: s.expected(x),
                          tolerance: SelftestData.tolerance(act))
    }
}
