import XCTest
import VulkanCore
@testable import Ops

final class NormOpTests: GPUTestCase {
    func testRMSNorm() throws {
        for (rows, width) in [(1, 1), (3, 64), (5, 896), (2, 1000), (70000, 3)] {
            let x = randomValues(rows * width, seed: UInt64(rows * 31 + width), scale: 3)
            let w = randomValues(width, seed: 7, scale: 2)
            let (gx, gw, gy) = (try buffer(x), try buffer(w), try zeros(rows * width))
            try run { try RMSNormOp.encode($0, x: gx.view, weight: gw.view, y: gy.view, rows: rows, width: width, eps: 1e-6) }
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

    func testLayerNormChannels() throws {
        for (c, h, w) in [(1, 1, 1), (4, 3, 5), (32, 7, 9), (96, 16, 16)] {
            let x = randomValues(c * h * w, seed: UInt64(c * h + w), scale: 5)
            let g = randomValues(c, seed: 3, scale: 2), b = randomValues(c, seed: 4)
            let (gx, gg, gb, gy) = (try buffer(x), try buffer(g), try buffer(b), try zeros(c * h * w))
            try run { try LayerNormChannelsOp.encode($0, x: gx.view, gamma: gg.view, beta: gb.view, y: gy.view, channels: c, pixels: h * w) }
            let expected = Reference.layerNormChannels(x, channels: c, height: h, width: w, gamma: g, beta: b, eps: 1e-5)
            XCTAssertLessThan(nmse(try read(gy, c * h * w), expected), Tolerance.fp32, "layernorm \(c)x\(h)x\(w)")
        }
    }
}
