import XCTest
@testable import FastVLM

/// Preparation straight from files: reduced-scale JPEG decoding against Pillow's full-size
/// path, and pictures whose shape would make a padded or resized intermediate huge.
final class ImagePreparationTests: XCTestCase {
    let folder = Fixtures.root.appending(path: "preprocess")

    func errors(_ a: [Float], _ b: [Float]) -> (max: Float, mean: Float) {
        XCTAssertEqual(a.count, b.count)
        let d = zip(a, b).map { abs($0 - $1) }
        return (d.max() ?? 0, d.reduce(0, +) / Float(max(d.count, 1)))
    }

    /// scene.jpg (480x360) for a 128 input decodes at 1/2 scale: pixels stay within a few
    /// levels of Pillow's full-size decode + bicubic, and the full-size path stays within the
    /// decoders' own IDCT rounding (2 levels).
    func testReducedJPEGDecodeMatchesPillow() throws {
        let url = folder.appending(path: "scene.jpg")
        for mode in PreprocessMode.allCases {
            let expected = try NPY.read(folder.appending(path: "scene_\(mode.rawValue)_128.npy"))
            XCTAssertEqual(expected.shape, [1, 3, 128, 128])
            let full = errors(Preprocess.pixels(try ImageFile.load(url), size: 128, mode: mode), expected.values)
            XCTAssertLessThanOrEqual(full.max, 2.0 / 255 + 1e-6, "\(mode) full-size decode")
            let reduced = errors(try Preprocess.pixels(file: url, size: 128, mode: mode), expected.values)
            // Measured: mean 0.56 (apple) / 0.84 (hf) levels, max 9 / 16 levels (on the noise).
            XCTAssertLessThanOrEqual(reduced.mean, 1.2 / 255, "\(mode) reduced-scale decode, mean")
            XCTAssertLessThanOrEqual(reduced.max, 20.0 / 255, "\(mode) reduced-scale decode, max")
            XCTAssertGreaterThan(reduced.mean, full.mean, "\(mode): the file should have been decoded at a reduced scale")
        }
    }

    /// A PNG as the one in the report (1,000,000 pixels wide) and its transpose: Apple's padding
    /// would be 10^12 pixels, transformers' resize 32 million wide. Both prepare, with bands
    /// under the budget.
    func testExtremeAspectRatioPNGsPrepare() throws {
        let long = 1_000_000
        let stripes: (Int) -> [UInt8] = { _ in [UInt8](repeating: 0xF0, count: (long + 7) / 8) }
        let wide = PNGWriter.gray1(width: long, height: 2, row: stripes)
        let tall = PNGWriter.gray1(width: 2, height: long) { y in [y % 2 == 0 ? 0xC0 : 0x00] }
        let dir = FileManager.default.temporaryDirectory.appending(path: "fastvlm-extreme-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, data, w, h) in [("wide.png", wide, long, 2), ("tall.png", tall, 2, long)] {
            let url = dir.appending(path: name)
            try data.write(to: url)
            XCTAssertEqual(try ImageFile.header(url).width, w)
            for mode in PreprocessMode.allCases {
                let pixels = try Preprocess.pixels(file: url, size: 64, mode: mode)
                XCTAssertEqual(pixels.count, 3 * 64 * 64)
                // Apple's square shrinks the 2-pixel side below one output pixel (black, as in
                // Pillow); transformers' crop shows the stripes.
                XCTAssertEqual(pixels.contains { $0 > 0 }, mode == .hf, "\(name) \(mode)")
                let (x, y) = Preprocess.axes(width: w, height: h, size: 64, mode: mode)
                for band in BicubicResize.bands(x: x, y: y) {
                    XCTAssertLessThanOrEqual(BicubicResize.bandBytes(x: x, y: y, band: band), BicubicResize.bandBudget, "\(name) \(mode)")
                }
            }
        }
    }

    /// The padded canvas is never built: an output column or row that reads only padding is 0,
    /// and the band buffers of a 4000x3000 picture at 1024 stay within the budget.
    func testBandsStayWithinBudget() {
        for mode in PreprocessMode.allCases {
            for (w, h) in [(4000, 3000), (3000, 4000), (100_000, 1000), (64, 64)] {
                let (x, y) = Preprocess.axes(width: w, height: h, size: 1024, mode: mode)
                let bands = BicubicResize.bands(x: x, y: y)
                XCTAssertEqual(bands.map(\.count).reduce(0, +), y.live.count, "\(w)x\(h) \(mode): bands cover the live rows")
                for band in bands {
                    XCTAssertLessThanOrEqual(BicubicResize.bandBytes(x: x, y: y, band: band), BicubicResize.bandBudget, "\(w)x\(h) \(mode)")
                }
            }
        }
    }

    func testHeaderOfAMissingOrBadFileIsAClearError() throws {
        XCTAssertThrowsError(try ImageFile.header(folder.appending(path: "missing.png"))) {
            XCTAssertTrue("\($0)".contains("no such file"), "\($0)")
        }
        XCTAssertThrowsError(try ImageFile.header(Fixtures.apple.appending(path: "config.json"))) {
            XCTAssertTrue("\($0)".contains("not a PNG or JPEG"), "\($0)")
        }
        let size = try ImageFile.header(folder.appending(path: "scene.jpg"))
        XCTAssertEqual([size.width, size.height], [480, 360])
    }
}
