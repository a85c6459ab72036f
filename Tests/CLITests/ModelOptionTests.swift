import Foundation
import XCTest

/// `--model` takes a local folder or a Hugging Face repo id (default apple/FastVLM-0.5B),
/// resolved through the standard cache. Every test here runs with HF_HUB_OFFLINE=1 and a
/// private cache, so nothing touches the network.
final class ModelOptionTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "FastVLMTests/Fixtures")
    var home: URL!

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appending(path: "fastvlm-hf-home-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: home)
    }

    /// An empty Hugging Face home, offline.
    var offline: [String: String] {
        ["HF_HOME": home.path, "HF_HUB_CACHE": home.appending(path: "hub").path, "HF_HUB_OFFLINE": "1"]
    }

    var image: String { fixtures.appending(path: "preprocess/photo.jpg").path }

    struct Output: Decodable { let token_ids: [Int] }

    func assertCleanFailure(_ r: CLIResult, _ args: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, args.joined(separator: " "), file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Usage: fastvlm-gpu <subcommand>"), r.stderr, file: file, line: line)
    }

    func testMalformedRepoIDIsAClearError() throws {
        let cases: [(String, String)] = [
            ("bad//id", "expected exactly one '/'"),
            ("owner/na me", "contains ' '"),
            ("owner/-name", "must not start with '-'"),
        ]
        for (spec, reason) in cases {
            let args = ["run", "--model", spec, "--image", image, "--prompt", "hi"]
            let r = try runCLI(args, environment: offline)
            assertCleanFailure(r, args)
            XCTAssertTrue(r.stderr.contains("not a valid Hugging Face repo id"), r.stderr)
            XCTAssertTrue(r.stderr.contains(reason), r.stderr)
            XCTAssertTrue(r.stderr.contains("apple/FastVLM-0.5B"), r.stderr)
        }
    }

    /// The default model, offline, with nothing cached: the message says how to get it.
    func testOfflineWithoutCacheSaysHowToGetTheModel() throws {
        for args in [["run", "--image", image, "--prompt", "hi"], ["run", "--model", "apple/FastVLM-1.5B", "--image", image, "--prompt", "hi"]] {
            let r = try runCLI(args, environment: offline)
            assertCleanFailure(r, args)
            let repo = args.contains("--model") ? "apple/FastVLM-1.5B" : "apple/FastVLM-0.5B"
            for part in ["HF_HUB_OFFLINE", "'\(repo)' is not in the Hugging Face cache", home.appending(path: "hub").path,
                         "without HF_HUB_OFFLINE to download it", "local model folder"] {
                XCTAssertTrue(r.stderr.contains(part), "missing '\(part)' in: \(r.stderr)")
            }
        }
    }

    func testLocalFolderStillWorksWithoutTheHub() throws {
        let args = ["run", "--model", fixtures.appending(path: "tiny-apple").path, "--image", image, "--prompt", "Hi", "--max-tokens", "3", "--json"]
        let r = try runCLI(args, environment: offline)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try JSONDecoder().decode(Output.self, from: Data(r.stdout.utf8)).token_ids.count, 3)
    }

    /// A repo id whose snapshot is in the cache runs offline, and gives what the folder gives.
    func testCachedRepoIDRunsOffline() throws {
        let commit = "0123456789abcdef0123456789abcdef01234567"
        let repo = home.appending(path: "hub/models--local--tiny-apple")
        let snapshot = repo.appending(path: "snapshots/\(commit)")
        try FileManager.default.createDirectory(at: repo.appending(path: "refs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: snapshot.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fixtures.appending(path: "tiny-apple"), to: snapshot)
        try Data(commit.utf8).write(to: repo.appending(path: "refs/main"))

        let tail = ["--image", image, "--prompt", "Hi", "--max-tokens", "3", "--json"]
        let cached = try runCLI(["run", "--model", "local/tiny-apple"] + tail, environment: offline)
        XCTAssertEqual(cached.status, 0, cached.stderr)
        let local = try runCLI(["run", "--model", fixtures.appending(path: "tiny-apple").path] + tail, environment: offline)
        XCTAssertEqual(try JSONDecoder().decode(Output.self, from: Data(cached.stdout.utf8)).token_ids,
                       try JSONDecoder().decode(Output.self, from: Data(local.stdout.utf8)).token_ids)

        let ids = try runCLI(["tokenize", "--model", "local/tiny-apple", "--json", "Describe the image."], environment: offline)
        XCTAssertEqual(ids.status, 0, ids.stderr)
        XCTAssertTrue(ids.stdout.hasPrefix("["), ids.stdout)
    }

    func testSyntheticModelIsRefusedByRun() throws {
        let args = ["run", "--model", "synthetic-0.5b", "--image", image, "--prompt", "hi"]
        let r = try runCLI(args, environment: offline)
        assertCleanFailure(r, args)
        XCTAssertTrue(r.stderr.contains("synthetic model"), r.stderr)
    }
}
