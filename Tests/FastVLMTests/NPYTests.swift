import XCTest
@testable import FastVLM

/// The .npy reader: bounded, checked sizes and non-finite values named as such.
final class NPYTests: XCTestCase {
    /// A version-1 header for `shape`, padded as numpy pads it, followed by `payload`.
    func file(shape: String, payload: [UInt8] = [], major: UInt8 = 1, descr: String = "<f4") -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape)), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [major, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: header.utf8)
        data.append(contentsOf: payload)
        return data
    }

    func floats(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    func assertRejected(_ data: Data, mentions: String, line: UInt = #line) {
        XCTAssertThrowsError(try NPY.parse(data, name: "x.npy"), line: line) { error in
            XCTAssertTrue("\(error)".contains(mentions), "\(error) does not mention \(mentions)", line: line)
        }
    }

    func testRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appending(path: "npy-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try NPY.write([1, -2, 3.5, 0, 5, 6], shape: [2, 3], to: url)
        let array = try NPY.read(url)
        XCTAssertEqual(array.shape, [2, 3])
        XCTAssertEqual(array.values, [1, -2, 3.5, 0, 5, 6])
    }

    func testNonFiniteValuesAreNamedWithTheirPosition() throws {
        assertRejected(file(shape: "1, 2, 2", payload: floats([0, 1, .nan, 3])), mentions: "element [0, 1, 0] is nan")
        assertRejected(file(shape: "2,", payload: floats([.infinity, 1])), mentions: "element [0] is inf")
        XCTAssertEqual(try NPY.parse(file(shape: "1,", payload: floats([-.infinity])), name: "x", allowNonFinite: true).values, [-.infinity])
    }

    func testOverflowingShapeIsRejectedNotWrapped() {
        // 2^62 * 4 wraps to 0 bytes in unchecked arithmetic.
        assertRejected(file(shape: "4611686018427387904, 4"), mentions: "more elements than can be addressed")
        assertRejected(file(shape: "4611686018427387904,"), mentions: "more elements than can be addressed")
        assertRejected(file(shape: "1000000, 1000000"), mentions: "data bytes for shape")
    }

    func testMalformedHeadersAreErrors() {
        assertRejected(Data([0x93] + Array("NUMPY".utf8) + [2, 0, 10, 0]), mentions: "truncated header")
        assertRejected(Data([0x93] + Array("NUMPY".utf8) + [7, 0, 10, 0]), mentions: "version 7")
        assertRejected(Data([0x93] + Array("NUMPY".utf8) + [2, 0, 0, 0, 0, 1]), mentions: "at most")
        assertRejected(file(shape: Array(repeating: "1", count: 65).joined(separator: ",")), mentions: "65 dimensions")
        assertRejected(file(shape: "-1,"), mentions: "bad shape entry")
        assertRejected(file(shape: "2,", descr: "<f8"), mentions: "float32")
        assertRejected(Data("not numpy".utf8), mentions: "not a .npy file")
    }
}
