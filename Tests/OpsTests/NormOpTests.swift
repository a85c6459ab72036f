import XCTest
import VulkanCore
@testable import Ops

final class NormOpTests: GPUTestCase {
    func testRMSNorm() throws {
        for (rows, width) in [(1, 1), (3, 64), (5, 896), (2, 1000), (70000, 3)] {
            let x = randomValues(rows * width, seed: UInt64(rows * 31 + width), scale: 3)
            let w = randomValues(width, seed: 7, scale: 2)
            let (gx, gw, gy) = (try buffer(x), try buffer(w), try zeros(rows * width))
            try run { try RowNormOp.encode($0, .rms, x: gx.view, weight: gw.view, y: gy.view, rows: rows, width: width, eps: 1e-6) }
            let expected = Reference.rmsNorm(x, rows: rows, width: width, weight: w, eps: 1e-6)
            XCTAssertLessThan(nmse(try read(gy, rows * width), expected), Tolerance.fp32, "rmsnorm \(rows)x\(width)")
        }
    }

    func testSoftmax() throws {
        for (rows, width) in [(1, 1), (4, 5), (3, 1024), (2, 3001)] {
            let x = randomValues(rows * width, seed: UInt64(rows + width), scale: 20)
            let (gx, gy) = (try buffer(x), try zeros(rows * width))
            try run { try SoftmaxOp.encode($0, x: gx.view, y: gy.view, rows: rows, width: width) }
            let expected = Reference.softmax(x, rows: rows, width: width)
            XCTAssertLessThan(nmse(try read(gy, rows * width), expected), Tolerance.fp32, "softmax \(rows)x\(width)")
        }
    }

    /// Channel LayerNorm on an HWC map = LayerNorm over rows of C; compared with the CHW reference.
    func testLayerNormChannels() throws {
        for (c, h, w) in [(1, 1, 1), (4, 3, 5), (32, 7, 9), (96, 16, 16), (1536, 2, 3)] {
            let x = randomValues(c * h * w, seed: UInt64(c * h + w), scale: 5)
            let g = randomValues(c, seed: 3, scale: 2), b = randomValues(c, seed: 4)
            for act in StorageType.allCases {
                let xs = act == .f16 ? roundedToHalf(x) : x
                let (gx, gg, gb, gy) = (try buffer(hwc(xs, c, h, w), as: act), try buffer(g), try buffer(b), try buffer([Float](repeating: .nan, count: c * h * w), as: act))
                try run { try RowNormOp.encode($0, .layer, x: gx.view, weight: gg.view, bias: gb.view, y: gy.view, rows: h * w, width: c, eps: 1e-5, activations: act) }
                let expected = Reference.layerNormChannels(xs, channels: c, height: h, width: w, gamma: g, beta: b, eps: 1e-5)
                let tolerance = act == .f16 ? Tolerance.fp16Activations : Tolerance.fp32
                XCTAssertLessThan(nmse(chw(try read(gy, c * h * w, as: act), c, h, w), expected), tolerance, "layernorm \(c)x\(h)x\(w) \(act)")
            }
        }
    }
}
