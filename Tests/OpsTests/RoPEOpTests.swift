import XCTest
import VulkanCore
@testable import Ops

final class RoPEOpTests: GPUTestCase {
    let theta: Float = 1_000_000

    // (T, p0, heads, kvHeads, hd): T = 1, GQA 7/1 and 14/2 and 4/2, hd 2/16/64/128, positions
    // up to 32767 (angles in the tens of thousands of radians test the range reduction).
    let shapes = [(1, 0, 1, 1, 2), (3, 5, 14, 2, 64), (7, 1000, 4, 2, 16), (1, 32767, 2, 1, 128), (200, 100, 7, 1, 64), (5, 8000, 2, 2, 128)]

    func testInPlaceAgainstReference() throws {
        for (t, p0, heads, kvHeads, hd) in shapes {
            let q = randomValues(t * heads * hd, seed: UInt64(t + hd), scale: 2), k = randomValues(t * kvHeads * hd, seed: UInt64(p0 + 3), scale: 2)
            let (gq, gk, pos) = (try buffer(q), try buffer(k), try device.upload([UInt32(p0)]))
            let freq = try RoPEOp.frequencyTable(device, headDim: hd, theta: theta)
            try run { try RoPEOp.encode($0, q: gq.view, k: gk.view, frequencies: freq.view, position: pos.view, tokens: t, heads: heads, kvHeads: kvHeads, headDim: hd) }
            var (eq, ek) = (q, k)
            Reference.rope(&eq, tokens: t, heads: heads, headDim: hd, firstPosition: p0, theta: theta)
            Reference.rope(&ek, tokens: t, heads: kvHeads, headDim: hd, firstPosition: p0, theta: theta)
            XCTAssertLessThan(nmse(try read(gq, q.count), eq), Tolerance.fp32, "q T=\(t) p0=\(p0) \(heads)/\(kvHeads) hd=\(hd)")
            XCTAssertLessThan(nmse(try read(gk, k.count), ek), Tolerance.fp32, "k T=\(t) p0=\(p0) \(heads)/\(kvHeads) hd=\(hd)")
        }
    }

    /// The fused form: q rotated in place, rotated k and v land in cache rows p0 ..< p0 + T,
    /// every other cache row and k itself stay untouched.
    func testFusedCacheAppend() throws {
        for (t, p0, heads, kvHeads, hd, capacity) in [(1, 0, 2, 1, 16, 4), (4, 9, 14, 2, 64, 16), (33, 3, 4, 2, 32, 40), (1, 63, 7, 1, 64, 64)] {
            let width = kvHeads * hd
            let q = randomValues(t * heads * hd, seed: UInt64(t * 5 + hd), scale: 2)
            let k = randomValues(t * width, seed: UInt64(p0 + 11), scale: 2), v = randomValues(t * width, seed: UInt64(p0 + 12))
            let sentinel: Float = -7.25
            let (gq, gk, gv, pos) = (try buffer(q), try buffer(k), try buffer(v), try device.upload([UInt32(p0)]))
            let (kc, vc) = (try buffer([Float](repeating: sentinel, count: capacity * width)), try buffer([Float](repeating: sentinel, count: capacity * width)))
            let freq = try RoPEOp.frequencyTable(device, headDim: hd, theta: theta)
            try run {
                try RoPEOp.encode($0, q: gq.view, k: gk.view, v: gv.view, kCache: kc.view, vCache: vc.view, frequencies: freq.view, position: pos.view,
                                  tokens: t, heads: heads, kvHeads: kvHeads, headDim: hd, capacity: capacity)
            }
            var (eq, ek) = (q, k)
            Reference.rope(&eq, tokens: t, heads: heads, headDim: hd, firstPosition: p0, theta: theta)
            Reference.rope(&ek, tokens: t, heads: kvHeads, headDim: hd, firstPosition: p0, theta: theta)
            let label = "T=\(t) p0=\(p0) \(heads)/\(kvHeads) hd=\(hd)"
            XCTAssertLessThan(nmse(try read(gq, q.count), eq), Tolerance.fp32, "q " + label)
            XCTAssertEqual(try read(gk, k.count), k, "k must stay unrotated " + label)
            let (gotK, gotV) = (try read(kc, capacity * width), try read(vc, capacity * width))
            let rows = p0 * width..<(p0 + t) * width
            XCTAssertLessThan(nmse(Array(gotK[rows]), ek), Tolerance.fp32, "k cache " + label)
            XCTAssertEqual(Array(gotV[rows]), v, "v cache " + label)
            for i in 0..<capacity * width where !rows.contains(i) {
                guard gotK[i] == sentinel && gotV[i] == sentinel else { XCTFail("cache value \(i) outside rows \(rows) overwritten, " + label); break }
            }
        }
    }

    /// fp16 storage: q, k, v stored as `activations`, the caches as `cache`. The reference is
    /// given the same fp16 inputs and rounds what the kernel stores in fp16 (rotated q, k in
    /// place or in the cache, v in the cache) once.
    func testHalfStorage() throws {
        let combos: [(StorageType, StorageType)] = [(.f16, .f32), (.f32, .f16), (.f16, .f16)]
        for (act, cacheType) in combos {
            for (t, p0, heads, kvHeads, hd, capacity) in [(1, 0, 2, 1, 16, 4), (4, 9, 14, 2, 64, 16), (33, 3, 4, 2, 32, 40), (1, 1000, 7, 1, 64, 1001),
                                                         (3, 60, 12, 2, 128, 64)] {
                let width = kvHeads * hd
                func stored(_ x: [Float], _ type: StorageType) -> [Float] { type == .f16 ? roundedToHalf(x) : x }
                let q = stored(randomValues(t * heads * hd, seed: UInt64(t * 5 + hd), scale: 2), act)
                let k = stored(randomValues(t * width, seed: UInt64(p0 + 11), scale: 2), act)
                let v = stored(randomValues(t * width, seed: UInt64(p0 + 12)), act)
                let sentinel: Float = -7.25
                let (gq, gk, gv, pos) = (try buffer(q, as: act), try buffer(k, as: act), try buffer(v, as: act), try device.upload([UInt32(p0)]))
                let fill = [Float](repeating: sentinel, count: capacity * width)
                let (kc, vc) = (try buffer(fill, as: cacheType), try buffer(fill, as: cacheType))
                let freq = try RoPEOp.frequencyTable(device, headDim: hd, theta: theta)
                try run {
                    try RoPEOp.encode($0, q: gq.view, k: gk.view, v: gv.view, kCache: kc.view, vCache: vc.view, frequencies: freq.view, position: pos.view,
                                      tokens: t, heads: heads, kvHeads: kvHeads, headDim: hd, capacity: capacity, activations: act, cache: cacheType)
                }
                var (eq, ek) = (q, k)
                Reference.rope(&eq, tokens: t, heads: heads, headDim: hd, firstPosition: p0, theta: theta)
                Reference.rope(&ek, tokens: t, heads: kvHeads, headDim: hd, firstPosition: p0, theta: theta)
                let label = "\(act) activations, \(cacheType) cache, T=\(t) p0=\(p0) \(heads)/\(kvHeads) hd=\(hd)"
                XCTAssertLessThan(nmse(try read(gq, q.count, as: act), stored(eq, act)), Tolerance.fp16Activations, "q " + label)
                XCTAssertEqual(try read(gk, k.count, as: act), k, "k must stay unrotated " + label)
                let (gotK, gotV) = (try read(kc, capacity * width, as: cacheType), try read(vc, capacity * width, as: cacheType))
                let rows = p0 * width..<(p0 + t) * width
                XCTAssertLessThan(nmse(Array(gotK[rows]), stored(ek, cacheType)), Tolerance.fp16Activations, "k cache " + label)
                XCTAssertEqual(Array(gotV[rows]), stored(v, cacheType), "v cache " + label)
                for i in 0..<capacity * width where !rows.contains(i) {
                    guard gotK[i] == sentinel && gotV[i] == sentinel else { XCTFail("cache value \(i) outside rows \(rows) overwritten, " + label); break }
                }
                // The in-place form with fp16 activations.
                if cacheType == .f32 {
                    let (gq2, gk2) = (try buffer(q, as: act), try buffer(k, as: act))
                    try run { try RoPEOp.encode($0, q: gq2.view, k: gk2.view, frequencies: freq.view, position: pos.view, tokens: t, heads: heads,
                                                kvHeads: kvHeads, headDim: hd, activations: act) }
                    XCTAssertLessThan(nmse(try read(gq2, q.count, as: act), stored(eq, act)), Tolerance.fp16Activations, "in place q " + label)
                    XCTAssertLessThan(nmse(try read(gk2, k.count, as: act), stored(ek, act)), Tolerance.fp16Activations, "in place k " + label)
                }
            }
        }
    }

    /// A recorded step replayed at successive positions with only the position uint rewritten.
    func testReplayAtSuccessivePositions() throws {
        let (heads, kvHeads, hd) = (4, 2, 32)
        let q = randomValues(heads * hd, seed: 1), k = randomValues(kvHeads * hd, seed: 2)
        let (gq, gk, pos) = (try buffer(q), try buffer(k), try device.upload([UInt32(0)]))
        let freq = try RoPEOp.frequencyTable(device, headDim: hd, theta: theta)
        let seq = CommandSequence(device: device, label: "rope replay")
        try RoPEOp.encode(seq, q: gq.view, k: gk.view, frequencies: freq.view, position: pos.view, tokens: 1, heads: heads, kvHeads: kvHeads, headDim: hd)
        for p0 in [0, 1, 17, 4095] {
            try q.withUnsafeBytes { try device.write($0, to: gq.view) }
            try [UInt32(p0)].withUnsafeBytes { try device.write($0, to: pos.view) }
            try seq.run()
            var eq = q
            Reference.rope(&eq, tokens: 1, heads: heads, headDim: hd, firstPosition: p0, theta: theta)
            XCTAssertLessThan(nmse(try read(gq, q.count), eq), Tolerance.fp32, "p0 = \(p0)")
        }
    }
}
