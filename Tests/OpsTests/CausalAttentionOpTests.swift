import XCTest
import VulkanCore
@testable import Ops

final class CausalAttentionOpTests: GPUTestCase {
    struct Case {
        var t: Int, p0: Int, heads: Int, kvHeads: Int, hd: Int, capacity: Int
    }

    /// Caches hold random rows below p0 + T and NaN beyond: a kernel that reads past the
    /// length (or lets a masked key's value through) turns the output into NaN.
    func inputs(_ c: Case, seed: UInt64) -> (q: [Float], k: [Float], v: [Float]) {
        let l = c.p0 + c.t, w = c.kvHeads * c.hd
        let nan = [Float](repeating: .nan, count: (c.capacity - l) * w)
        return (randomValues(c.t * c.heads * c.hd, seed: seed, scale: 2),
                randomValues(l * w, seed: seed + 1, scale: 2) + nan,
                randomValues(l * w, seed: seed + 2) + nan)
    }

    func expected(_ c: Case, _ x: (q: [Float], k: [Float], v: [Float])) -> [Float] {
        let l = c.p0 + c.t, w = c.kvHeads * c.hd
        return Reference.causalAttention(q: x.q, tokens: c.t, keys: Array(x.k[0..<l * w]), values: Array(x.v[0..<l * w]), length: l,
                                         heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd)
    }

    // T = 1, T not a multiple of the row block, several row blocks (300), p0 > 0, GQA 7/1,
    // 4/2, 2/1, hd 16/32/64.
    let prefillCases = [Case(t: 1, p0: 0, heads: 1, kvHeads: 1, hd: 32, capacity: 8),
                        Case(t: 5, p0: 0, heads: 4, kvHeads: 2, hd: 16, capacity: 16),
                        Case(t: 70, p0: 0, heads: 7, kvHeads: 1, hd: 64, capacity: 80),
                        Case(t: 33, p0: 40, heads: 4, kvHeads: 2, hd: 64, capacity: 100),
                        Case(t: 3, p0: 100, heads: 14, kvHeads: 2, hd: 64, capacity: 128),
                        Case(t: 130, p0: 3, heads: 2, kvHeads: 2, hd: 32, capacity: 140),
                        Case(t: 1, p0: 200, heads: 4, kvHeads: 1, hd: 16, capacity: 201),
                        Case(t: 300, p0: 7, heads: 2, kvHeads: 1, hd: 64, capacity: 320)]

    func testPrefillAgainstReference() throws {
        for variant in AttentionVariant.allCases {
            for (i, c) in prefillCases.enumerated() {
                let x = inputs(c, seed: UInt64(100 * i + 1))
                let (gq, gk, gv) = (try buffer(x.q), try buffer(x.k), try buffer(x.v))
                let (gout, pos) = (try zeros(c.t * c.heads * c.hd), try device.upload([UInt32(c.p0)]))
                try run {
                    try CausalAttentionOp.encode($0, q: gq.view, kCache: gk.view, vCache: gv.view, out: gout.view, position: pos.view,
                                                 tokens: c.t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity, variant: variant)
                }
                let err = nmse(try read(gout, c.t * c.heads * c.hd), expected(c, x))
                XCTAssertLessThan(err, attentionTolerance, "\(variant) \(c)")
            }
        }
    }

    // L = 1 (fewer keys than splits), L a multiple of the split count and not, T = 2, 4, 8
    // (causal inside the step, so some rows see none of the last range; 16 rows per kv head),
    // GQA 7/1, 4/2, 14/2, 12/2, hd 16/32/64/128; each with 1, 3, 4 and 32 splits, both variants.
    let decodeCases = [Case(t: 1, p0: 0, heads: 2, kvHeads: 1, hd: 32, capacity: 4),
                       Case(t: 1, p0: 63, heads: 4, kvHeads: 2, hd: 64, capacity: 64),
                       Case(t: 1, p0: 64, heads: 4, kvHeads: 2, hd: 64, capacity: 100),
                       Case(t: 1, p0: 199, heads: 7, kvHeads: 1, hd: 64, capacity: 300),
                       Case(t: 2, p0: 50, heads: 4, kvHeads: 2, hd: 16, capacity: 60),
                       Case(t: 2, p0: 100, heads: 7, kvHeads: 1, hd: 32, capacity: 128),
                       Case(t: 8, p0: 20, heads: 2, kvHeads: 1, hd: 16, capacity: 40),
                       Case(t: 4, p0: 3, heads: 4, kvHeads: 2, hd: 16, capacity: 8),
                       Case(t: 1, p0: 511, heads: 14, kvHeads: 2, hd: 64, capacity: 1024),
                       Case(t: 1, p0: 150, heads: 12, kvHeads: 2, hd: 128, capacity: 160)]

    func testDecodeAgainstReference() throws {
        let caps = device.capabilities
        for variant in DecodeAttentionOp.Variant.allCases {
            for (i, c) in decodeCases.enumerated() {
                XCTAssertTrue(DecodeAttentionOp.supports(tokens: c.t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, caps: caps, variant: variant), "\(c)")
                let x = inputs(c, seed: UInt64(100 * i + 7))
                let (gq, gk, gv) = (try buffer(x.q), try buffer(x.k), try buffer(x.v))
                let (gout, pos) = (try zeros(c.t * c.heads * c.hd), try device.upload([UInt32(c.p0)]))
                for splits in [1, 3, 4, 32] {
                    let bytes = DecodeAttentionOp.scratchBytes(tokens: c.t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, splits: splits, caps: caps, variant: variant)
                    let scratch = try device.allocate(bytes: bytes)
                    try run {
                        try DecodeAttentionOp.encode($0, q: gq.view, kCache: gk.view, vCache: gv.view, out: gout.view, position: pos.view, scratch: scratch.view,
                                                     tokens: c.t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity, splits: splits,
                                                     variant: variant)
                    }
                    let err = nmse(try read(gout, c.t * c.heads * c.hd), expected(c, x))
                    XCTAssertLessThan(err, attentionTolerance, "decode \(variant) \(c) splits \(splits)")
                }
            }
        }
    }

    /// One recording replayed at growing positions, only the position buffer changing
    /// between runs (the decode loop's pattern), for both attention ops.
    func testReplayWithChangingPosition() throws {
        let c = Case(t: 1, p0: 0, heads: 4, kvHeads: 2, hd: 32, capacity: 200)
        let w = c.kvHeads * c.hd
        let k = randomValues(c.capacity * w, seed: 5, scale: 2), v = randomValues(c.capacity * w, seed: 6)
        let q = randomValues(c.heads * c.hd, seed: 8, scale: 2)
        let (gq, gk, gv, pos) = (try buffer(q), try buffer(k), try buffer(v), try device.upload([UInt32(0)]))
        let (out1, out2) = (try zeros(c.heads * c.hd), try zeros(c.heads * c.hd))
        let splits = 4
        let scratch = try device.allocate(bytes: DecodeAttentionOp.scratchBytes(tokens: 1, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, splits: splits,
                                                                                caps: device.capabilities, variant: device.kernelPolicy.decodeAttention))
        let seq = CommandSequence(device: device, label: "replay")
        try DecodeAttentionOp.encode(seq, q: gq.view, kCache: gk.view, vCache: gv.view, out: out1.view, position: pos.view, scratch: scratch.view,
                                     tokens: 1, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity, splits: splits)
        try CausalAttentionOp.encode(seq, q: gq.view, kCache: gk.view, vCache: gv.view, out: out2.view, position: pos.view,
                                     tokens: 1, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity)
        for p0 in [0, 1, 63, 64, 65, 130, 199] {
            try [UInt32(p0)].withUnsafeBytes { try device.write($0, to: pos.view) }
            try seq.run()
            let l = p0 + 1
            let expected = Reference.causalAttention(q: q, tokens: 1, keys: Array(k[0..<l * w]), values: Array(v[0..<l * w]), length: l,
                                                     heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd)
            XCTAssertLessThan(nmse(try read(out1, c.heads * c.hd), expected), attentionTolerance, "decode at p0 = \(p0)")
            XCTAssertLessThan(nmse(try read(out2, c.heads * c.hd), expected), attentionTolerance, "prefill kernel at p0 = \(p0)")
        }
    }

    /// The storage combinations the decoder uses: q and out as `act`, the caches as `cache`.
    /// The reference sees the same fp16-rounded q, K and V; an fp16 output is one more
    /// rounding (Tolerance.fp16Activations), an fp32 one matches as tightly as fp32 does.
    static let halfCombos: [(act: StorageType, cache: StorageType)] = [(.f16, .f32), (.f32, .f16), (.f16, .f16)]

    func halfInputs(_ c: Case, seed: UInt64, act: StorageType, cache: StorageType) -> (q: [Float], k: [Float], v: [Float]) {
        let x = inputs(c, seed: seed)
        func stored(_ v: [Float], _ type: StorageType) -> [Float] { type == .f16 ? roundedToHalf(v) : v }
        return (stored(x.q, act), stored(x.k, cache), stored(x.v, cache))
    }

    /// A subset of the cases (each storage pair JIT-compiles its own pipelines): L a multiple
    /// of the splits and not, GQA 4/2, 7/1, 12/2, T = 1, 2, 4, hd 16/32/64/128.
    func testHalfStorageDecodeAgainstReference() throws {
        let caps = device.capabilities
        let cases = [1, 3, 5, 7, 9].map { decodeCases[$0] }
        for (act, cache) in Self.halfCombos {
            for variant in DecodeAttentionOp.Variant.allCases {
                for (i, c) in cases.enumerated() {
                    let x = halfInputs(c, seed: UInt64(100 * i + 9), act: act, cache: cache)
                    let (gq, gk, gv) = (try buffer(x.q, as: act), try buffer(x.k, as: cache), try buffer(x.v, as: cache))
                    let (gout, pos) = (try buffer([Float](repeating: .nan, count: c.t * c.heads * c.hd), as: act), try device.upload([UInt32(c.p0)]))
                    for splits in [[1, 32], [3], [4, 32], [3], [32]][i] {
                        let bytes = DecodeAttentionOp.scratchBytes(tokens: c.t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, splits: splits, caps: caps, variant: variant)
                        let scratch = try device.allocate(bytes: bytes)
                        try run {
                            try DecodeAttentionOp.encode($0, q: gq.view, kCache: gk.view, vCache: gv.view, out: gout.view, position: pos.view, scratch: scratch.view,
                                                         tokens: c.t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity, splits: splits,
                                                         variant: variant, activations: act, cache: cache)
                        }
                        let err = nmse(try read(gout, c.t * c.heads * c.hd, as: act), expected(c, x))
                        XCTAssertLessThan(err, act == .f16 ? Tolerance.fp16Activations : attentionTolerance, "decode \(act)/\(cache) \(variant) \(c) splits \(splits)")
                    }
                }
            }
        }
    }

    /// Several row blocks, T not a multiple of the block, p0 > 0, GQA 4/2, 14/2, 2/1, hd 16/64.
    func testHalfStoragePrefillAgainstReference() throws {
        let cases = [1, 3, 4, 7].map { prefillCases[$0] }
        for (act, cache) in Self.halfCombos {
            for variant in AttentionVariant.allCases {
                for (i, c) in cases.enumerated() {
                    let x = halfInputs(c, seed: UInt64(100 * i + 3), act: act, cache: cache)
                    let (gq, gk, gv) = (try buffer(x.q, as: act), try buffer(x.k, as: cache), try buffer(x.v, as: cache))
                    let (gout, pos) = (try buffer([Float](repeating: .nan, count: c.t * c.heads * c.hd), as: act), try device.upload([UInt32(c.p0)]))
                    try run {
                        try CausalAttentionOp.encode($0, q: gq.view, kCache: gk.view, vCache: gv.view, out: gout.view, position: pos.view,
                                                     tokens: c.t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity, variant: variant,
                                                     activations: act, cache: cache)
                    }
                    let err = nmse(try read(gout, c.t * c.heads * c.hd, as: act), expected(c, x))
                    XCTAssertLessThan(err, act == .f16 ? Tolerance.fp16Activations : attentionTolerance, "\(act)/\(cache) \(variant) \(c)")
                }
            }
        }
    }

    /// fp16 caches hold half the bytes: buffers sized for fp16 are refused as fp32 caches.
    func testCacheSizeFollowsStorage() throws {
        let c = Case(t: 1, p0: 0, heads: 2, kvHeads: 1, hd: 32, capacity: 8)
        let (q, out, pos) = (try zeros(c.heads * c.hd), try zeros(c.heads * c.hd), try device.upload([UInt32(0)]))
        let half = try device.allocate(bytes: c.capacity * c.kvHeads * c.hd * 2)
        let seq = CommandSequence(device: device, label: "sizes")
        XCTAssertNoThrow(try CausalAttentionOp.encode(seq, q: q.view, kCache: half.view, vCache: half.view, out: out.view, position: pos.view, tokens: 1,
                                                      heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity, cache: .f16))
        XCTAssertThrowsError(try CausalAttentionOp.encode(seq, q: q.view, kCache: half.view, vCache: half.view, out: out.view, position: pos.view, tokens: 1,
                                                          heads: c.heads, kvHeads: c.kvHeads, headDim: c.hd, capacity: c.capacity))
    }

    func testDecodeRejectsTooManyRows() throws {
        XCTAssertFalse(DecodeAttentionOp.supports(tokens: 10, heads: 14, kvHeads: 2, headDim: 64, caps: device.capabilities, variant: .rowPerInvocation))
        XCTAssertFalse(DecodeAttentionOp.supports(tokens: 3, heads: 14, kvHeads: 2, headDim: 64, caps: device.capabilities, variant: .keysPerInvocation))
        for variant in DecodeAttentionOp.Variant.allCases {
            XCTAssertFalse(DecodeAttentionOp.supports(tokens: 1, heads: 6, kvHeads: 4, headDim: 64, caps: device.capabilities, variant: variant))
        }
    }
}
