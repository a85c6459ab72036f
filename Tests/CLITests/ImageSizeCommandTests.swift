import Foundation
import XCTest

/// `--image-size` on the commands that run a model, `bench resolutions`, and image files checked
/// before a model is loaded.
final class ImageSizeCommandTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "FastVLMTests/Fixtures")
    var model: String { fixtures.appending(path: "tiny-apple").path }
    var image: String { fixtures.appending(path: "preprocess/photo.jpg").path }

    func testBadImageSizesAreUsageErrors() throws {
        for size in ["100", "0", "32", "8192", "-64", "big"] {
            for command in [["run", "--model", model, "--image", image, "--prompt", "hi"], ["chat", "--model", model, "--image", image],
                            ["profile", "--model", model, "--image", image, "--prompt", "hi"], ["bench", "model", "--model", model]] {
                let r = try runCLI(command + ["--image-size", size])
                XCTAssertEqual(r.status, 64, "\(command[0]) --image-size \(size): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains("image-size"), r.stderr)
            }
        }
        let r = try runCLI(["bench", "resolutions", "--model", model, "--sizes", "64,100"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("multiple of 64"), r.stderr)
    }

    struct Output: Decodable { let token_ids: [Int]; let prompt_tokens: Int }
    struct SizedGolden: Decodable { let image_tokens: Int; let hf_input_ids: [Int] }

    /// The prompt carries (N/64)^2 image rows: 9 at 192 instead of the checkpoint's 4.
    func testRunAtAnotherSize() throws {
        let golden = try JSONDecoder().decode(SizedGolden.self, from: Data(contentsOf: fixtures.appending(path: "goldens/size192/golden.json")))
        for backend in ["cpu", "gpu"] {
            let r = try runCLI(["run", "--model", model, "--backend", backend, "--image-size", "192", "--prompt", "Describe the image.",
                                "--pixel-values", fixtures.appending(path: "goldens/size192/pixel_values.npy").path, "--max-tokens", "2", "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try JSONDecoder().decode(Output.self, from: Data(r.stdout.utf8)).prompt_tokens, golden.hf_input_ids.count, backend)
        }
        let r = try runCLI(["run", "--model", model, "--image-size", "256", "--image", image, "--prompt", "Hi", "--max-tokens", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let wrong = try runCLI(["run", "--model", model, "--image-size", "256", "--prompt", "Hi",
                                "--pixel-values", fixtures.appending(path: "goldens/pixel_values.npy").path])
        XCTAssertEqual(wrong.status, 1, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("[1, 3, 256, 256]"), wrong.stderr)
    }

    func testBenchModelAndProfileAtAnotherSize() throws {
        struct BenchReport: Decodable { let image_size: Int; let prompt_tokens: Int }
        let r = try runCLI(["bench", "model", "--model", model, "--image-size", "192", "--repetitions", "1", "--warmups", "0",
                            "--decode-tokens", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(r.stdout.utf8))
        XCTAssertEqual([report.image_size, report.prompt_tokens], [192, 24 + 9])
        let p = try runCLI(["profile", "--model", model, "--image-size", "256", "--image", image, "--prompt", "Hi", "--max-tokens", "1"])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertTrue(p.stdout.contains("== vision: GPU"), p.stdout)
    }

    /// A missing or undecodable image is reported before the model: here the model is a repo id
    /// that cannot be resolved offline, so a model error would show if it were loaded first.
    func testImageIsCheckedBeforeTheModelLoads() throws {
        let home = FileManager.default.temporaryDirectory.appending(path: "fastvlm-empty-hf-\(getpid())")
        defer { try? FileManager.default.removeItem(at: home) }
        let environment = ["HF_HUB_OFFLINE": "1", "HF_HOME": home.path, "HF_HUB_CACHE": home.path]
        let notImage = fixtures.appending(path: "tiny-apple/config.json").path
        for (file, message) in [("/no/such/picture.png", "no such file"), (notImage, "not a PNG or JPEG")] {
            for command in [["run", "--prompt", "hi"], ["chat"]] {
                let r = try runCLI(command + ["--model", "someone/not-cached", "--image", file], environment: environment)
                XCTAssertNotEqual(r.status, 0, r.stderr)
                XCTAssertTrue(r.stderr.contains(message), "\(command[0]) \(file): \(r.stderr)")
                XCTAssertFalse(r.stderr.contains("not-cached"), "\(command[0]): the model was looked up first: \(r.stderr)")
            }
        }
        // chat decodes the whole image first: a truncated one would otherwise fail every turn.
        let cut = home.appending(path: "cut.jpg")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try Data(contentsOf: URL(fileURLWithPath: image)).dropLast(200).write(to: cut)
        let r = try runCLI(["chat", "--model", "someone/not-cached", "--image", cut.path], environment: environment)
        XCTAssertNotEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("corrupt or truncated JPEG"), r.stderr)
    }

    struct Report: Decodable {
        struct Row: Decodable { let model: String; let image_size: Int; let image_tokens: Int; let vision_ms: Double; let prefill_ms: Double; let ttft_ms: Double; let error: String? }
        let rows: [Row]
    }

    func testBenchResolutionsWritesTableJSONAndChart() throws {
        let chart = FileManager.default.temporaryDirectory.appending(path: "fastvlm-resolutions-\(getpid()).svg")
        defer { try? FileManager.default.removeItem(at: chart) }
        let hf = fixtures.appending(path: "tiny-hf").path
        let r = try runCLI(["bench", "resolutions", "--model", model, "--model", hf, "--sizes", "64,128,192", "--repetitions", "1",
                            "--warmups", "0", "--json", "--chart", chart.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(report.rows.map(\.image_size), [64, 128, 192, 64, 128, 192])
        XCTAssertEqual(report.rows.map(\.image_tokens), [1, 4, 9, 1, 4, 9])
        for row in report.rows {
            XCTAssertNil(row.error)
            XCTAssertGreaterThan(row.vision_ms, 0)
            XCTAssertGreaterThanOrEqual(row.ttft_ms, row.vision_ms + row.prefill_ms)
        }
        let svg = try String(contentsOf: chart, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"), svg)
        XCTAssertEqual(svg.components(separatedBy: "<rect x=").count - 1, 2 * 6 + 2, "a vision and a prefill bar per row, two legend boxes")
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "a TTFT line per model")

        let table = try runCLI(["bench", "resolutions", "--model", model, "--sizes", "64,128", "--repetitions", "1", "--warmups", "0"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("TTFT ms"), table.stdout)
        XCTAssertEqual(table.stdout.split(separator: "\n").filter { $0.hasPrefix("tiny-apple") || $0.contains("/tiny-apple") }.count, 2, table.stdout)
    }
}
