import XCTest
import VulkanCore
@testable import Ops

final class EmbeddingOpTests: GPUTestCase {
    /// ids with image positions (the sentinel) and their rows, as the reference sees them.
    /// The table is compared as stored (`roundTrip`): quantized rows dequantized, exactly for
    /// the float formats, within fp32 rounding (s * q + m may be fused) for q8 and q4.
    /// With fp16 `activations` the rows are the table's values rounded to fp16 once.
    func check(vocab: Int, hidden: Int, ids: [UInt32], format: WeightFormat, bindingLimit: Int? = nil, activations: StorageType = .f32) throws {
        let values = randomValues(vocab * hidden, seed: UInt64(vocab + hidden))
        var table = WeightPacking.roundTrip(values, rows: vocab, cols: hidden, format: format)
        if activations == .f16 { table = roundedToHalf(table) }
        let weight = try LinearWeight(device: device, values: values, rows: vocab, cols: hidden, format: format)
        let sentinel: Float = 9.5
        let (gids, gout) = (try device.upload(ids), try buffer([Float](repeating: sentinel, count: ids.count * hidden), as: activations))
        try run {
            if let bindingLimit {
                try EmbeddingOp.encode($0, table: weight, ids: gids.view, out: gout.view, tokens: ids.count, bindingLimit: bindingLimit,
                                       activations: activations)
            } else {
                try EmbeddingOp.encode($0, table: weight, ids: gids.view, out: gout.view, tokens: ids.count, activations: activations)
            }
        }
        let text = ids.filter { $0 != EmbeddingOp.imageToken }.map(Int.init)
        var expectedRows = Reference.embedding(ids: text, table: table, hidden: hidden)[...]
        var expected: [Float] = []
        for id in ids {
            if id == EmbeddingOp.imageToken { expected += [Float](repeating: sentinel, count: hidden) }
            else { expected += expectedRows.prefix(hidden); expectedRows = expectedRows.dropFirst(hidden) }
        }
        let got = try read(gout, ids.count * hidden, as: activations)
        let what = "\(format) \(activations) vocab \(vocab) hidden \(hidden) limit \(bindingLimit ?? 0)"
        if format.isQuantized && activations == .f16 {
            // A dequantized value within fp32 rounding of a rounding boundary may round either way.
            XCTAssertLessThan(nmse(got, expected), Tolerance.fp16Activations, what)
        } else if format.isQuantized {
            XCTAssertEqual(got.count, expected.count)
            let worst = zip(got, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-6, what)
        } else {
            XCTAssertEqual(got, expected, what)
        }
    }

    func testGather() throws {
        let image = EmbeddingOp.imageToken
        for format in WeightFormat.allCases {
            let h = format.isQuantized ? 64 : 6
            try check(vocab: 1, hidden: format.isQuantized ? 64 : 2, ids: [0], format: format)
            try check(vocab: 50, hidden: h, ids: [3, 49, 0, image, image, 3, 7], format: format)
            try check(vocab: 1000, hidden: 64, ids: (0..<300).map { UInt32(($0 * 37) % 1000) }, format: format)
            try check(vocab: 33, hidden: 192, ids: [32, image, 0, 17, 17], format: format)
            if !format.isQuantized { try check(vocab: 17, hidden: 5, ids: [16, image, 2], format: format) }  // odd hidden size
        }
    }

    /// fp16 rows (the decoder's fp16 activations), every table format, odd hidden sizes, a
    /// split table.
    func testGatherIntoHalfRows() throws {
        let image = EmbeddingOp.imageToken
        for format in WeightFormat.allCases {
            let h = format.isQuantized ? 64 : 6
            try check(vocab: 50, hidden: h, ids: [3, 49, 0, image, image, 3, 7], format: format, activations: .f16)
            try check(vocab: 33, hidden: 192, ids: [32, image, 0, 17, 17], format: format, activations: .f16)
            if !format.isQuantized { try check(vocab: 17, hidden: 5, ids: [16, image, 2], format: format, activations: .f16) }
            try check(vocab: 1000, hidden: 192, ids: [0, 169, 170, 171, 999, image, 500], format: format,
                      bindingLimit: 170 * format.rowBytes(cols: 192) + 4, activations: .f16)
        }
    }

    /// A table split into several bindings (as 151936 x 896 fp16 must be on a 128 MiB limit),
    /// with ids on both sides of every slice boundary.
    func testSplitTable() throws {
        let (vocab, hidden) = (1000, 192)
        let ids: [UInt32] = [0, 169, 170, 171, 340, 341, 999, EmbeddingOp.imageToken, 500, 998, 160, 176]
        for format in WeightFormat.allCases {
            let rowBytes = format.rowBytes(cols: hidden)
            let limit = 170 * rowBytes + 4  // about 170 rows per slice, several slices
            try check(vocab: vocab, hidden: hidden, ids: ids, format: format, bindingLimit: limit)
            let slices = LinearOp.slices(rows: vocab, rowBytes: rowBytes, caps: { var c = device.capabilities; c.maxStorageBufferRange = limit; return c }())
            XCTAssertGreaterThan(slices.count, 4, "\(format): the table was not split")
        }
    }

    /// A bf16 table keeps values beyond fp16's range exactly.
    func testBF16TableKeepsRange() throws {
        let values: [Float] = [1e20, -3e38, 1.5e-30, 65536 * 4, -0.0078125, 1, 2, 3]
        let weight = try LinearWeight(device: device, values: values, rows: 2, cols: 4, format: .bf16)
        let (gids, gout) = (try device.upload([UInt32(1), 0]), try zeros(8))
        try run { try EmbeddingOp.encode($0, table: weight, ids: gids.view, out: gout.view, tokens: 2) }
        let bf = values.map { Float(bitPattern: UInt32(WeightPacking.bf16Bits($0)) << 16) }
        XCTAssertEqual(try read(gout, 8), Array(bf[4..<8] + bf[0..<4]))
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

    /// fp32 image rows (the projector's) into fp16 rows: converted, from any row of the image
    /// buffer to any row of the output (offsets not aligned for a binding), the rest untouched.
    func testSpliceIntoHalfRows() throws {
        for (t, hidden, imageRows, row, first, count) in [(10, 8, 4, 0, 3, 4), (9, 7, 6, 3, 1, 2), (5, 896, 3, 1, 4, 1)] {
            let image = randomValues(imageRows * hidden, seed: UInt64(hidden), scale: 30)
            let base = roundedToHalf(randomValues(t * hidden, seed: 4))
            let (gimage, gout) = (try buffer(image), try buffer(base, as: .f16))
            try run { try EmbeddingOp.splice($0, rows: gimage.view, from: row, into: gout.view, at: first, count: count, hidden: hidden, activations: .f16) }
            var expected = base
            expected.replaceSubrange(first * hidden..<(first + count) * hidden, with: roundedToHalf(Array(image[row * hidden..<(row + count) * hidden])))
            XCTAssertEqual(try read(gout, t * hidden, as: .f16), expected, "T \(t) hidden \(hidden) rows \(row)..<\(row + count) at \(first)")
            XCTAssertThrowsError(try run { try EmbeddingOp.splice($0, rows: gimage.view, from: imageRows - count + 1, into: gout.view, at: 0, count: count,
                                                                  hidden: hidden, activations: .f16) })
        }
    }
}
