import XCTest
import VulkanCore
@testable import Ops

/// Attention sums exp() terms in a different order than the reference (tile by tile with
/// rescaling, exp2 of pre-scaled scores): relative errors of a few fp32 ulps per term, NMSE
/// near 1e-13 in practice; 1e-9 leaves room for a device's less exact exp2.
let attentionTolerance = 1e-9

final class VisionAttentionOpTests: GPUTestCase {
    // (tokens, channels, head dim): N = 1, N below / at / above / not a multiple of the row
    // block (up to 64 invocations x 8 rows) and of the 32-key tile, one head, several heads,
    // head dims 16 and 64, several row blocks with a partial last one (600).
    let shapes = [(1, 32, 32), (5, 64, 32), (31, 32, 32), (64, 96, 32), (65, 64, 32), (100, 96, 32), (257, 64, 32),
                  (33, 64, 16), (47, 128, 64), (600, 32, 32)]

    func testAgainstReference() throws { try check(activations: .f32) }

    /// fp16 qkv and out (fp32 scores, softmax and sums) against the reference fed the same
    /// fp16-rounded qkv: the output's rounding dominates.
    func testFP16Activations() throws { try check(activations: .f16) }

    func check(activations act: StorageType) throws {
        for variant in AttentionVariant.allCases {
            for (n, c, hd) in shapes {
                var qkv = randomValues(n * 3 * c, seed: UInt64(n * 131 + c + hd), scale: 3)
                if act == .f16 { qkv = roundedToHalf(qkv) }
                let (gqkv, gout) = (try buffer(qkv, as: act), try buffer([Float](repeating: .nan, count: n * c), as: act))
                try run { try VisionAttentionOp.encode($0, qkv: gqkv.view, out: gout.view, tokens: n, channels: c, headDim: hd,
                                                       activations: act, variant: variant) }
                let expected = Reference.multiHeadAttention(qkv: qkv, count: n, channels: c, headDim: hd)
                let err = nmse(try read(gout, n * c, as: act), expected)
                XCTAssertLessThan(err, act == .f16 ? Tolerance.fp16Activations : attentionTolerance, "\(variant) \(act) N=\(n) C=\(c) hd=\(hd)")
            }
        }
    }

    /// Large score ranges (a peaked softmax whose maximum moves from tile to tile) stress the
    /// running-max rescaling: without it exp() overflows or the early tiles are mis-weighted.
    func testPeakedScores() throws {
        let (n, c) = (130, 64)
        for variant in AttentionVariant.allCases {
            var qkv = randomValues(n * 3 * c, seed: 99, scale: 1)
            for i in 0..<n { for d in 0..<c { qkv[i * 3 * c + d] *= 12; qkv[i * 3 * c + c + d] *= Float(1 + i % 7) } }
            let (gqkv, gout) = (try buffer(qkv), try zeros(n * c))
            try run { try VisionAttentionOp.encode($0, qkv: gqkv.view, out: gout.view, tokens: n, channels: c, variant: variant) }
            let expected = Reference.multiHeadAttention(qkv: qkv, count: n, channels: c, headDim: 32)
            XCTAssertLessThan(nmse(try read(gout, n * c), expected), attentionTolerance, "\(variant)")
        }
    }

    func testRejectsBadShapes() throws {
        let b = try zeros(64)
        XCTAssertThrowsError(try run { try VisionAttentionOp.encode($0, qkv: b.view, out: b.view, tokens: 2, channels: 48) })
        XCTAssertThrowsError(try run { try VisionAttentionOp.encode($0, qkv: b.view, out: b.view, tokens: 1, channels: 30, headDim: 30) })
    }
}
