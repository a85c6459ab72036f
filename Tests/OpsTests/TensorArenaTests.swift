import XCTest
import VulkanCore
@testable import Ops

final class TensorArenaTests: GPUTestCase {
    func testRangesAreReusedByLifetime() throws {
        let arena = TensorArena(device: device, chunkSize: 1 << 20)
        var a: GPUTensor? = try arena.tensor([100, 10], .f32)
        let b = try arena.tensor([100, 10], .f16)
        XCTAssertFalse(overlap(a!.view, b.view))
        let offsetA = a!.view.offset
        a = nil
        let c = try arena.tensor([100, 10], .f32)
        XCTAssertEqual(c.view.offset, offsetA, "a dropped tensor's range is handed out again")
        XCTAssertFalse(overlap(b.view, c.view))
        XCTAssertEqual(arena.reservedBytes, 1 << 20)
        let big = try arena.tensor([1 << 19], .f32)   // larger than a chunk: a new one
        XCTAssertEqual(big.view.size, 1 << 21)
        XCTAssertEqual(arena.reservedBytes, (1 << 20) + (1 << 21))
    }

    private func overlap(_ x: BufferView, _ y: BufferView) -> Bool {
        x.buffer === y.buffer && x.offset < y.offset + y.size && y.offset < x.offset + x.size
    }
}
