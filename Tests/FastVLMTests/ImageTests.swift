import XCTest
@testable import FastVLM

final class ImageTests: XCTestCase {
    let folder = Fixtures.root.appending(path: "preprocess")

    func testDecodersMatchPillow() throws {
        for name in ["rgb.png", "rgba.png", "gray.png", "palette.png", "interlaced.png", "rgb16.png", "photo.jpg"] {
            let image = try ImageFile.load(folder.appending(path: name))
            let expected = try NPY.read(folder.appending(path: name.replacingOccurrences(of: ".", with: "_") + "_rgba.npy"))
            XCTAssertEqual([image.height, image.width, 4], expected.shape, name)
            let diff = zip(image.rgba, expected.values).map { abs(Float($0) - $1) }.max() ?? 0
            // JPEG: libjpeg-turbo vs Pillow's libjpeg may differ by an IDCT rounding step.
            XCTAssertLessThanOrEqual(diff, name.hasSuffix(".jpg") ? 2 : 0, name)
        }
    }

    func testApplePreprocessingMatchesReference() throws {
        let image = try ImageFile.load(folder.appending(path: "rgba.png"))
        let expected = try NPY.read(folder.appending(path: "rgba_apple.npy"))
        let pixels = Preprocess.pixels(image, size: 64, mode: .apple)
        XCTAssertEqual(expected.shape, [1, 3, 64, 64])
        XCTAssertLessThanOrEqual(zip(pixels, expected.values).map { abs($0 - $1) }.max() ?? 1, 1.0 / 255 + 1e-6)
    }

    func testHFPreprocessingMatchesReference() throws {
        let image = try ImageFile.load(folder.appending(path: "rgba.png"))
        let expected = try NPY.read(folder.appending(path: "rgba_hf.npy"))
        let pixels = Preprocess.pixels(image, size: 64, mode: .hf)
        XCTAssertLessThanOrEqual(zip(pixels, expected.values).map { abs($0 - $1) }.max() ?? 1, 1.0 / 255 + 1e-6)
    }

    func testTextFileNamedPNGIsRejected() throws {
        XCTAssertThrowsError(try ImageFile.decode(Data("hello, not an image".utf8), name: "notes.png")) {
            XCTAssertTrue("\($0)".contains("not a PNG or JPEG"), "\($0)")
        }
    }

    func testTruncatedPNGIsAClearError() throws {
        let data = try Data(contentsOf: folder.appending(path: "interlaced.png"))
        XCTAssertThrowsError(try ImageFile.decode(data.prefix(data.count / 2), name: "cut.png")) {
            XCTAssertTrue("\($0)".contains("corrupt or truncated PNG"), "\($0)")
        }
    }

    func testTruncatedJPEGIsAClearError() throws {
        let data = try Data(contentsOf: folder.appending(path: "photo.jpg"))
        XCTAssertThrowsError(try ImageFile.decode(data.prefix(data.count / 2), name: "cut.jpg")) {
            XCTAssertTrue("\($0)".contains("JPEG"), "\($0)")
        }
    }

    /// A JPEG cut anywhere in its scan data (even just its end marker) is an error, never a
    /// picture with grey rows, at full and at reduced scale.
    func testTruncatedJPEGIsRefusedWhereverItEnds() throws {
        let url = folder.appending(path: "scene.jpg")
        let data = try Data(contentsOf: url)
        let dir = FileManager.default.temporaryDirectory.appending(path: "fastvlm-cut-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for keep in [data.count / 3, data.count * 9 / 10, data.count - 100, data.count - 2] {
            let cut = dir.appending(path: "cut.jpg")
            try data.prefix(keep).write(to: cut)
            XCTAssertThrowsError(try ImageFile.load(cut), "\(keep) bytes") {
                XCTAssertTrue("\($0)".contains("corrupt or truncated JPEG"), "\($0)")
            }
            XCTAssertThrowsError(try Preprocess.pixels(file: cut, size: 64, mode: .apple), "\(keep) bytes, reduced scale")
        }
        XCTAssertNoThrow(try ImageFile.load(url))
    }

    /// A header claiming 60000 x 60000 is refused before any pixel memory is allocated.
    func testHugePNGHeaderIsRefused() throws {
        var data = try Data(contentsOf: folder.appending(path: "rgb.png"))
        // IHDR's width and height are bytes 16..23; recompute the chunk CRC so only the size is wrong.
        var header = [UInt8](data)
        for (i, b) in [UInt8(0), 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60].enumerated() { header[16 + i] = b }
        let crc = crc32(Array(header[12..<29]))
        header[29] = UInt8(crc >> 24); header[30] = UInt8((crc >> 16) & 0xff); header[31] = UInt8((crc >> 8) & 0xff); header[32] = UInt8(crc & 0xff)
        data = Data(header)
        XCTAssertThrowsError(try ImageFile.decode(data, name: "huge.png")) {
            XCTAssertTrue("\($0)".contains("60000x60000"), "\($0)")
        }
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }
}
