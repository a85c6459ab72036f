import XCTest
import VulkanCore
@testable import Ops

final class ConvertOpTests: GPUTestCase {
    /// fp16 -> fp32 is exact; odd counts and counts past one grid-stride round.
    func testHalfToFloat() throws {
        for count in [1, 7, 1024, 70001] {
            let x = roundedToHalf(randomValues(count, seed: UInt64(count), scale: 100))
            let (gx, gy) = (try buffer(x, as: .f16), try zeros(count))
            try run { try ConvertOp.halfToFloat($0, x: gx.view, y: gy.view, count: count) }
            XCTAssertEqual(try read(gy, count), x, "\(count) values")
        }
    }

    func testRefusesShortBuffers() throws {
        let (x, y) = (try buffer([1, 2], as: .f16), try zeros(4))
        let seq = CommandSequence(device: device, label: "short")
        XCTAssertThrowsError(try ConvertOp.halfToFloat(seq, x: x.view, y: y.view, count: 8))
        XCTAssertThrowsError(try ConvertOp.halfToFloat(seq, x: y.view, y: y.view, count: 4))
    }
}
