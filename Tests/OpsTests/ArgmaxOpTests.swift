import XCTest
import VulkanCore
@testable import Ops

final class ArgmaxOpTests: GPUTestCase {
    func argmax(_ logits: [Float]) throws -> Int {
        let (g, result) = (try buffer(logits), try device.upload([UInt32.max]))
        let scratch = try device.allocate(bytes: ArgmaxOp.scratchBytes(count: logits.count))
        try run { try ArgmaxOp.encode($0, logits: g.view, count: logits.count, scratch: scratch.view, result: result.view) }
        return Int(try device.download(result.view, as: UInt32.self, count: 1)[0])
    }

    func testRandomRows() throws {
        // One value, below / at / above one block and one workgroup, the Qwen2 vocab widths.
        for n in [1, 2, 127, 128, 1024, 1025, 5000, 151_936, 152_064] {
            let logits = randomValues(n, seed: UInt64(n), scale: 10)
            XCTAssertEqual(try argmax(logits), Reference.argmax(logits), "n = \(n)")
        }
    }

    /// Ties go to the lowest index, wherever the tied values sit (same thread, different
    /// threads, different partial blocks); -inf rows still give an index.
    func testTiesAndEdges() throws {
        let n = 151_936
        var logits = randomValues(n, seed: 1)
        for i in [150_000, 70_001, 70_000, 128, 5, 131_072] { logits[i] = 20 }
        XCTAssertEqual(try argmax(logits), 5)
        logits[5] = 0
        XCTAssertEqual(try argmax(logits), 128)
        logits[128] = 0
        XCTAssertEqual(try argmax(logits), 70_000)
        var last = [Float](repeating: -1, count: 3000)
        last[2999] = 0
        XCTAssertEqual(try argmax(last), 2999)
        XCTAssertEqual(try argmax([Float](repeating: -.infinity, count: 1000)), 0)
        var withInf = [Float](repeating: -.infinity, count: 1000)
        withInf[777] = .infinity
        XCTAssertEqual(try argmax(withInf), 777)
        XCTAssertEqual(try argmax([Float](repeating: 3, count: 4000)), 0)
    }
}
