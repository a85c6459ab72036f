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

    /// fp32 -> fp16 rounds to nearest (Swift's Float16 init does the same), between element
    /// offsets of both buffers; values outside the range are left alone.
    func testFloatToHalfAtOffsets() throws {
        for (count, xOffset, yOffset) in [(1, 0, 0), (7, 3, 5), (1024, 1, 0), (70001, 0, 9)] {
            let x = randomValues(xOffset + count, seed: UInt64(count + 1), scale: 100)
            let base = roundedToHalf(randomValues(yOffset + count + 3, seed: 9))
            let (gx, gy) = (try buffer(x), try buffer(base, as: .f16))
            try run { try ConvertOp.floatToHalf($0, x: gx.view, xOffset: xOffset, y: gy.view, yOffset: yOffset, count: count) }
            var expected = base
            expected.replaceSubrange(yOffset..<yOffset + count, with: roundedToHalf(Array(x[xOffset...])))
            XCTAssertEqual(try read(gy, base.count, as: .f16), expected, "\(count) values at \(xOffset) -> \(yOffset)")
        }
        let (x, y) = (try buffer([1, 2, 3]), try buffer([0, 0], as: .f16))
        let seq = CommandSequence(device: device, label: "short")
        XCTAssertThrowsError(try ConvertOp.floatToHalf(seq, x: x.view, xOffset: 1, y: y.view, count: 3))
        XCTAssertThrowsError(try ConvertOp.floatToHalf(seq, x: x.view, y: y.view, yOffset: 1, count: 2))
    }

    func testRefusesShortBuffers() throws {
        let (x, y) = (try buffer([1, 2], as: .f16), try zeros(4))
        let seq = CommandSequence(device: device, label: "short")
        XCTAssertThrowsError(try ConvertOp.halfToFloat(seq, x: x.view, y: y.view, count: 8))
        XCTAssertThrowsError(try ConvertOp.halfToFloat(seq, x: y.view, y: y.view, count: 4))
    }
}
