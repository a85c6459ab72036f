import XCTest
import VulkanCore
@testable import Ops

final class EmbeddingOpTests: GPUTestCase {
    /// ids with image positions (the sentinel) and their rows, as the reference sees them.
    func check(vocab: Int, hidden: Int, ids: [UInt32], type: StorageType, bindingLimit: Int? = nil) throws {
        var table = randomValues(vocab * hidden, seed: UInt64(vocab + hidden))
        if type == .f16 { table = roundedToHalf(table) }
        let weight = try LinearWeight(device: device, values: table, rows: vocab, cols: hidden, format: type.weightFormat)
        let sentinel: Float = 9.5
        let (gids, gout) = (try device.upload(ids), try buffer([Float](repeating: sentinel, count: ids.count * hidden)))
        try run {
            if let bindingLimit {
                try EmbeddingOp.encode($0, table: weight, ids: gids.view, out: gout.view, tokens: ids.count, bindingLimit: bindingLimit)
            } else {
                try EmbeddingOp.encode($0, table: weight, ids: gids.view, out: gout.view, tokens: ids.count)
            }
        }
        let text = ids.filter { $0 != EmbeddingOp.imageToken }.map(Int.init)
        var expectedRows = Reference.embedding(ids: text, table: table, hidden: hidden)[...]
        var expected: [Float] = []
        for id in ids {
            if id == EmbeddingOp.imageToken { expected += [Float](repeating: sentinel, count: hidden) }
            else { expected += expectedRows.prefix(hidden); expectedRows = expectedRows.dropFirst(hidden) }
        }
        XCTAssertEqual(try read(gout, ids.count * hidden), expected, "\(type) vocab \(vocab) hidden \(hidden) limit \(bindingLimit ?? 0)")
    }

    func testGather() throws {
        let image = EmbeddingOp.imageToken
        for type in StorageType.allCases {
            try check(vocab: 1, hidden: 2, ids: [0], type: type)
            try check(vocab: 50, hidden: 6, ids: [3, 49, 0, image, image, 3, 7], type: type)
            try check(vocab: 1000, hidden: 64, ids: (0..<300).map { UInt32(($0 * 37) % 1000) }, type: type)
        }
        try check(vocab: 17, hidden: 5, ids: [16, image, 2], type: .f32)  // odd hidden size, fp32 only
    }

    /// A table split into several bindings (as 151936 x 896 fp16 must be on a 128 MiB limit),
    /// with ids on both sides of every slice boundary.
    func testSplitTable() throws {
        let (vocab, hidden) = (1000, 96)
        let ids: [UInt32] = [0, 169, 170, 171, 340, 341, 999, EmbeddingOp.imageToken, 500, 998]
        for type in StorageType.allCases {
            let rowBytes = hidden * type.size
            let limit = 170 * rowBytes + 4  // about 170 rows per slice, several slices
            try check(vocab: vocab, hidden: hidden, ids: ids, type: type, bindingLimit: limit)
            let slices = LinearOp.slices(rows: vocab, rowBytes: rowBytes, caps: { var c = device.capabilities; c.maxStorageBufferRange = limit; return c }())
            XCTAssertGreaterThan(slices.count, 4, "\(type): the table was not split")
        }
    }

    func testSplice() throws {
        let (t, hidden, first, count) = (10, 8, 3, 4)
        let image = randomValues(count * hidden, seed: 3)
        let base = randomValues(t * hidden, seed: 4)
        let (gimage, gout) = (try buffer(image), try buffer(base))
        try run { try EmbeddingOp.splice($0, rows: gimage.view, into: gout.view, at: first, count: count, hidden: hidden) }
        var expected = base
        expected.replaceSubrange(first * hidden..<(first + count) * hidden, with: image)
        XCTAssertEqual(try read(gout, t * hidden), expected)
        XCTAssertThrowsError(try run { try EmbeddingOp.splice($0, rows: gimage.view, into: gout.view, at: 7, count: count, hidden: hidden) })
    }
}
