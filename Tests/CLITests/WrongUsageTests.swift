import Foundation
import XCTest

/// Wrong usage ends with a message that names the problem and a non-zero status, never a crash.
final class WrongUsageTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "FastVLMTests/Fixtures")
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appending(path: "fastvlm-usage-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    var model: String { fixtures.appending(path: "tiny-apple").path }
    var image: String { fixtures.appending(path: "preprocess/photo.jpg").path }
    /// No hub access whatever the test machine's settings.
    var offline: [String: String] { ["HF_HOME": scratch.path, "HF_HUB_CACHE": scratch.appending(path: "hub").path, "HF_HUB_OFFLINE": "1"] }

    /// Runs each case and checks: non-zero exit, `message` on stderr, nothing on stdout, no
    /// crash, and no usage text of the root command (a subcommand's error is its own).
    func check(_ cases: [([String], String)], status: Int32? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        for (args, message) in cases {
            let r = try runCLI(args, environment: offline)
            let label = args.joined(separator: " ")
            XCTAssertNotEqual(r.status, 0, label, file: file, line: line)
            if let status { XCTAssertEqual(r.status, status, label, file: file, line: line) }
            XCTAssertTrue(r.stderr.contains(message), "\(label): expected '\(message)' in: \(r.stderr)", file: file, line: line)
            XCTAssertFalse(r.stderr.contains("Fatal error"), "\(label): \(r.stderr)", file: file, line: line)
            XCTAssertFalse(r.stderr.contains("Usage: fastvlm-gpu <subcommand>"), "\(label): \(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stdout.isEmpty, "\(label) printed to stdout: \(r.stdout)", file: file, line: line)
        }
    }

    func testUnknownFlag() throws {
        try check([
            (["run", "--prompt", "hi", "--image", image, "--bogus"], "Unknown option '--bogus'"),
            (["devices", "--bogus"], "Unknown option '--bogus'"),
            (["bench", "ops", "--bogus"], "Unknown option '--bogus'"),
            (["tokenize", "--model", model, "--bogus", "hi"], "Unknown option '--bogus'"),
        ], status: 64)
        let r = try runCLI(["--bogus"], environment: offline)
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("Unknown option '--bogus'"), r.stderr)
    }

    func testMissingInputFiles() throws {
        try check([
            (["run", "--model", model, "--image", scratch.appending(path: "missing.png").path, "--prompt", "hi"], "missing.png: no such file"),
            (["run", "--model", model, "--image", "/no/such/folder/x.jpg", "--prompt", "hi"], "the folder /no/such/folder does not exist"),
            (["run", "--model", model, "--image", scratch.path, "--prompt", "hi"], "is a folder, not a file"),
            (["run", "--model", model, "--pixel-values", scratch.appending(path: "missing.npy").path, "--prompt", "hi"], "missing.npy: no such file"),
            (["tokenize", "--model", model, "--file", scratch.appending(path: "missing.txt").path], "--file \(scratch.appending(path: "missing.txt").path): no such file"),
        ], status: 1)
    }

    func testUnreadableOrCorruptImage() throws {
        let png = try Data(contentsOf: fixtures.appending(path: "preprocess/interlaced.png"))
        let jpeg = try Data(contentsOf: fixtures.appending(path: "preprocess/photo.jpg"))
        let truncatedPNG = scratch.appending(path: "truncated.png"), truncatedJPEG = scratch.appending(path: "truncated.jpg")
        let text = scratch.appending(path: "notes.png"), empty = scratch.appending(path: "empty.jpg")
        try png.prefix(png.count / 2).write(to: truncatedPNG)
        try jpeg.prefix(jpeg.count / 2).write(to: truncatedJPEG)
        try Data("just some text".utf8).write(to: text)
        try Data().write(to: empty)
        var cases: [([String], String)] = [
            (["run", "--model", model, "--image", truncatedPNG.path, "--prompt", "hi"], "truncated.png: corrupt or truncated PNG"),
            (["run", "--model", model, "--image", truncatedJPEG.path, "--prompt", "hi"], "truncated.jpg: corrupt or truncated JPEG"),
            (["run", "--model", model, "--image", text.path, "--prompt", "hi"], "notes.png: not a PNG or JPEG image"),
            (["run", "--model", model, "--image", empty.path, "--prompt", "hi"], "empty.jpg: not a PNG or JPEG image"),
        ]
        if getuid() != 0 {   // root reads anything, so permissions cannot be tested as root
            let locked = scratch.appending(path: "locked.png")
            try png.write(to: locked)
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked.path)
            cases.append((["run", "--model", model, "--image", locked.path, "--prompt", "hi"], "locked.png: permission denied"))
        }
        try check(cases, status: 1)
    }

    func testBadModel() throws {
        let emptyFolder = scratch.appending(path: "empty-model")
        try FileManager.default.createDirectory(at: emptyFolder, withIntermediateDirectories: true)
        let noConfig = scratch.appending(path: "no-config")
        try FileManager.default.copyItem(at: fixtures.appending(path: "tiny-apple"), to: noConfig)
        try FileManager.default.removeItem(at: noConfig.appending(path: "config.json"))
        try check([
            (["run", "--model", "not a repo", "--image", image, "--prompt", "hi"], "not a valid Hugging Face repo id"),
            (["run", "--model", "a/b/c", "--image", image, "--prompt", "hi"], "not a valid Hugging Face repo id"),
            (["run", "--model", emptyFolder.path, "--image", image, "--prompt", "hi"], "has no config.json"),
            (["run", "--model", noConfig.path, "--image", image, "--prompt", "hi"], "has no config.json"),
            (["run", "--model", fixtures.appending(path: "tiny-apple/config.json").path, "--image", image, "--prompt", "hi"], "is not a folder"),
            (["run", "--model", scratch.appending(path: "nowhere").path, "--image", image, "--prompt", "hi"], "does not exist"),
            (["tokenize", "--model", emptyFolder.path, "hi"], "no tokenizer"),
        ], status: 1)
    }

    func testBadOptionValues() throws {
        try check([
            (["run", "--model", model, "--image", image, "--prompt", "hi", "--max-tokens", "0"], "--max-tokens must be at least 1"),
            (["run", "--model", model, "--image", image, "--prompt", "hi", "--backend", "tpu"], "--backend"),
            (["bench", "ops", "--weights", "q3"], "--weights must be one of f32, f16, bf16, q8, q4"),
            (["bench", "ops", "--shape", "1x2"], "shape '1x2' is not MxNxK"),
            (["tokenize", "--model", model, "--decode", "1 two 3"], "'two' is not a token id"),
        ])
    }
}
