import XCTest
import VulkanCore
@testable import Ops

final class LayoutOpTests: GPUTestCase {
    let shapes = [(3, 17, 13), (1, 1, 1), (96, 5, 7), (1, 4, 9), (7, 1, 1)]

    func testCHWToHWCAndBack() throws {
        for (i, (c, h, w)) in shapes.enumerated() {
            let x = randomValues(c * h * w, seed: UInt64(90 + i))
            let (gx, gy, gz) = (try buffer(x), try zeros(c * h * w), try zeros(c * h * w))
            try run {
                try LayoutOp.chwToHWC($0, x: gx.view, y: gy.view, channels: c, height: h, width: w)
                try LayoutOp.hwcToCHW($0, x: gy.view, y: gz.view, channels: c, height: h, width: w)
            }
            XCTAssertEqual(try read(gy, c * h * w), Reference.transpose(x, rows: c, cols: h * w), "CHW->HWC \(c)x\(h)x\(w)")
            XCTAssertEqual(try read(gy, c * h * w), hwc(x, c, h, w), "CHW->HWC \(c)x\(h)x\(w)")
            XCTAssertEqual(try read(gz, c * h * w), x, "HWC->CHW \(c)x\(h)x\(w)")
        }
    }

    /// The fp32 image into an fp16 map: a transpose whose only change is fp16 rounding, so the
    /// result equals the rounded reference exactly.
    func testCHWToHWCIntoFP16() throws {
        for (i, (c, h, w)) in shapes.enumerated() {
            let x = randomValues(c * h * w, seed: UInt64(70 + i), scale: 3)
            let (gx, gy) = (try buffer(x), try buffer([Float](repeating: .nan, count: c * h * w), as: .f16))
            try run { try LayoutOp.chwToHWC($0, x: gx.view, y: gy.view, channels: c, height: h, width: w, activations: .f16) }
            XCTAssertEqual(try read(gy, c * h * w, as: .f16), roundedToHalf(hwc(x, c, h, w)), "CHW->HWC fp16 \(c)x\(h)x\(w)")
        }
    }
}
