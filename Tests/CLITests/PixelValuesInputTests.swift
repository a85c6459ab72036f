import Foundation
import XCTest

/// `--pixel-values` holding NaN or inf is refused as such before the model runs (not reported
/// later as an fp16 overflow of the encoder).
final class PixelValuesInputTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "FastVLMTests/Fixtures")

    func testNonFinitePixelValuesAreNamed() throws {
        var data = try Data(contentsOf: fixtures.appending(path: "goldens/pixel_values.npy"))
        // The last float32 of the file becomes a quiet NaN.
        data.replaceSubrange(data.count - 4..<data.count, with: [0x00, 0x00, 0xC0, 0x7F])
        let url = FileManager.default.temporaryDirectory.appending(path: "nan-pixels-\(getpid()).npy")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let r = try runCLI(["run", "--model", fixtures.appending(path: "tiny-apple").path, "--pixel-values", url.path, "--prompt", "Hi", "--max-tokens", "1"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("is nan"), r.stderr)
        XCTAssertFalse(r.stderr.contains("fp16"), r.stderr)
    }
}
