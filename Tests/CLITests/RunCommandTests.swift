import Foundation
import XCTest

/// The `run` command reproduces the transformers goldens through the CLI, for both layouts.
final class RunCommandTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "FastVLMTests/Fixtures")

    struct Golden: Decodable { let prompt: String; let greedy_tokens: [Int] }
    struct Output: Decodable { let text: String; let token_ids: [Int]; let prompt_tokens: Int; let timings: [String: Double] }

    func runGolden(_ layout: String, backend: String, extra: [String] = []) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: fixtures.appending(path: "goldens/golden.json")))
        let dump = FileManager.default.temporaryDirectory.appending(path: "fastvlm-dump-\(layout)-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dump) }
        let r = try runCLI(["run", "--model", fixtures.appending(path: layout).path, "--pixel-values", fixtures.appending(path: "goldens/pixel_values.npy").path,
                            "--prompt", golden.prompt, "--max-tokens", "\(golden.greedy_tokens.count)", "--json", "--dump", dump.path, "--backend", backend] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try JSONDecoder().decode(Output.self, from: Data(r.stdout.utf8))
        XCTAssertEqual(out.token_ids, golden.greedy_tokens)
        for key in ["load", "preprocess", "vision", "projector", "prefill", "ttft", "decode", "decode_tokens_per_second"] {
            XCTAssertNotNil(out.timings[key], key)
        }
        for file in ["pixel_values.npy", "vision_features.npy", "projector_out.npy", "logits_last.npy"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dump.appending(path: file).path), file)
        }
    }

    func testAppleLayoutGoldenTokensGPU() throws { try runGolden("tiny-apple", backend: "gpu") }
    func testHFLayoutGoldenTokensGPU() throws { try runGolden("tiny-hf", backend: "gpu") }
    /// The GPU-class kernels (tiled GEMM, staged attention, fused SwiGLU...) end to end on any device.
    func testAppleLayoutGoldenTokensGPUKernels() throws { try runGolden("tiny-apple", backend: "gpu", extra: ["--kernels", "gpu"]) }
    func testHFLayoutGoldenTokensGPUKernels() throws { try runGolden("tiny-hf", backend: "gpu", extra: ["--kernels", "gpu"]) }
    func testAppleLayoutGoldenTokensCPUKernels() throws { try runGolden("tiny-apple", backend: "gpu", extra: ["--kernels", "cpu"]) }
    /// The hidden option that forces the decoder's storage (fp16 rows and KV cache): same tokens.
    func testDecoderStorageHalfGoldenTokens() throws { try runGolden("tiny-hf", backend: "gpu", extra: ["--decoder-storage", "f16"]) }
    func testAppleLayoutGoldenTokensCPU() throws { try runGolden("tiny-apple", backend: "cpu") }
    func testHFLayoutGoldenTokensCPU() throws { try runGolden("tiny-hf", backend: "cpu") }

    func testSameSeedSameSample() throws {
        let args = ["run", "--model", fixtures.appending(path: "tiny-hf").path, "--image", fixtures.appending(path: "preprocess/photo.jpg").path,
                    "--prompt", "Hi", "--max-tokens", "6", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.9", "--seed", "7", "--json"]
        let a = try runCLI(args), b = try runCLI(args)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(try JSONDecoder().decode(Output.self, from: Data(a.stdout.utf8)).token_ids,
                       try JSONDecoder().decode(Output.self, from: Data(b.stdout.utf8)).token_ids)
    }

    func testWrongUsageIsAClearError() throws {
        let model = fixtures.appending(path: "tiny-apple").path
        let cases: [([String], String)] = [
            (["run", "--model", model, "--prompt", "hi"], "--image"),
            (["run", "--model", "/nonexistent/model", "--image", fixtures.appending(path: "preprocess/rgb.png").path, "--prompt", "hi"], "does not exist"),
            (["run", "--model", model, "--image", "/nonexistent.png", "--prompt", "hi"], "nonexistent.png"),
            (["run", "--model", model, "--image", fixtures.appending(path: "tiny-apple/config.json").path, "--prompt", "hi"], "not a PNG or JPEG"),
            (["run", "--model", model, "--image", fixtures.appending(path: "preprocess/rgb.png").path, "--prompt", "   "], "prompt is empty"),
            (["run", "--model", model, "--image", fixtures.appending(path: "preprocess/rgb.png").path, "--prompt", "hi", "--max-tokens", "100000"], "context"),
            (["run", "--model", model, "--prompt", "hi", "--image", "x.png", "--bogus"], "--bogus"),
            (["run", "--model", model, "--prompt", "hi", "--image", "x.png", "--decoder-storage", "f8"], "--decoder-storage"),
            (["run", "--model", model, "--image", fixtures.appending(path: "preprocess/rgb.png").path, "--prompt", "<image> what is this?"], "contains <image>"),
        ]
        for (args, message) in cases {
            let r = try runCLI(args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        }
    }

    func testTokenizeRoundTrip() throws {
        let model = fixtures.appending(path: "tiny-apple").path
        let ids = try runCLI(["tokenize", "--model", model, "--json", "Describe the image."])
        XCTAssertEqual(ids.status, 0, ids.stderr)
        let text = try runCLI(["tokenize", "--model", model, "--decode", ids.stdout])
        XCTAssertEqual(text.stdout.trimmingCharacters(in: .newlines), "Describe the image.")
    }
}
