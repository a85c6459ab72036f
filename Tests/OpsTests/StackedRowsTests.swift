import XCTest
import VulkanCore
@testable import Ops

/// Stacked weights ([q; k; v], [gate; up]) go up as their parts' stored bytes when every part
/// holds the target format, piece by piece across part boundaries, and through conversion when
/// one does not; both give the same device weight.
final class StackedRowsTests: GPUTestCase {
    /// bf16 rows held as bytes, like a mapped bf16 checkpoint tensor.
    struct BF16Rows: WeightRows {
        let bits: [UInt16]
        let rows: Int
        let cols: Int
        let holds: Bool

        func readRows(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
            for (i, b) in bits[range.lowerBound * cols..<range.upperBound * cols].enumerated() { out[i] = Float(bitPattern: UInt32(b) << 16) }
        }

        func holdsStoredRows(as format: WeightFormat) -> Bool { holds && format == .bf16 }

        func withStoredRows(_ range: Range<Int>, as format: WeightFormat, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
            guard holdsStoredRows(as: format) else { return false }
            try bits[range.lowerBound * cols..<range.upperBound * cols].withUnsafeBytes(body)
            return true
        }
    }

    func parts(cols: Int, rows: [Int], holds: [Bool]) -> [BF16Rows] {
        zip(rows, holds).enumerated().map { i, p in
            let values = randomValues(p.0 * cols, seed: UInt64(70 + i))
            return BF16Rows(bits: values.map { WeightPacking.bf16Bits($0) }, rows: p.0, cols: cols, holds: p.1)
        }
    }

    func testStoredAndConvertedUploadsAgree() throws {
        let cols = 48
        // Rows large enough that an upload piece spans part boundaries at several places.
        let sizes = [LinearWeight.pieceBytes / (2 * cols) + 7, 13, LinearWeight.pieceBytes / (2 * cols) / 3]
        let held = try StackedRows(parts(cols: cols, rows: sizes, holds: [true, true, true]))
        let mixed = try StackedRows(parts(cols: cols, rows: sizes, holds: [true, false, true]))
        XCTAssertTrue(held.holdsStoredRows(as: .bf16))
        XCTAssertFalse(mixed.holdsStoredRows(as: .bf16))
        XCTAssertFalse(held.holdsStoredRows(as: .f16))
        let expected = try held.allFloats()
        for source in [held, mixed] {
            let weight = try LinearWeight(device: device, source: source, format: .bf16)
            XCTAssertEqual(try weight.download(device), expected)
        }
        XCTAssertEqual(try LinearWeight(device: device, source: held, format: .f32).download(device), expected)
    }
}
