import Foundation
import XCTest
@testable import FastVLM

/// ModelLocator against a local imitation of the Hugging Face hub (HubTestServer on 127.0.0.1).
final class HubDownloadTests: XCTestCase {
    static let repoName = "test-org/TinyVLM"
    static let commit = "0123456789abcdef0123456789abcdef01234567"
    static let shard1 = "model-00001-of-00002.safetensors"
    static let shard2 = "model-00002-of-00002.safetensors"

    // MARK: - Fixtures

    /// Deterministic pseudo-random bytes.
    static func bytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        var data = Data(count: count)
        for index in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            data[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return data
    }

    static let repo: HubTestServer.Repo = {
        func text(_ string: String) -> Data { Data(string.utf8) }
        let index = """
        {"metadata": {"total_size": 3245728}, "weight_map": {"a.weight": "\(shard1)", "b.weight": "\(shard2)"}}
        """
        return HubTestServer.Repo(commit: commit, files: [
            .init(name: ".gitattributes", data: text("*.safetensors filter=lfs\n"), lfs: false),
            .init(name: "README.md", data: text("# Tiny\n"), lfs: false),
            .init(name: "config.json", data: text("{\"model_type\": \"llava_qwen2\"}"), lfs: false),
            .init(name: "tokenizer.json", data: text("{\"model\": {\"type\": \"BPE\"}}"), lfs: false),
            .init(name: "tokenizer_config.json", data: text("{}"), lfs: false),
            .init(name: "model.safetensors.index.json", data: text(index), lfs: false),
            .init(name: shard1, data: bytes(3 << 20, seed: 1), lfs: true),
            .init(name: shard2, data: bytes(100_000, seed: 2), lfs: true),
            .init(name: "pytorch_model.bin", data: bytes(1000, seed: 3), lfs: true),
            .init(name: "onnx/vision.onnx", data: bytes(1000, seed: 4), lfs: true),
        ])
    }()

    static let wanted = ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors.index.json", shard1, shard2]

    static func file(_ name: String) -> HubTestServer.File? { repo.files.first { $0.name == name } }

    static func blobName(_ file: HubTestServer.File) -> String {
        file.lfs ? HubTestServer.sha256(file.data) : HubTestServer.gitBlobID(file.data)
    }

    func startServer() throws -> HubTestServer {
        let server = try HubTestServer()
        server.repos[Self.repoName] = Self.repo
        addTeardownBlock { server.stop() }
        return server
    }

    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hub-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// An environment that only points at the temp folder and the local server.
    func environment(_ root: URL, endpoint: String, _ extra: [String: String] = [:]) -> [String: String] {
        var env = [
            "HOME": root.path,
            "HF_HOME": root.appendingPathComponent("hf-home").path,
            "HF_HUB_CACHE": root.appendingPathComponent("hub").path,
            "HF_ENDPOINT": endpoint,
        ]
        env.merge(extra) { _, new in new }
        return env
    }

    func repoFolder(_ root: URL) -> URL {
        root.appendingPathComponent("hub/models--test-org--TinyVLM", isDirectory: true)
    }

    func cdnRequests(_ server: HubTestServer, _ name: String) -> [HubTestServer.Request] {
        let sha = HubTestServer.sha256(Self.file(name)?.data ?? Data())
        return server.requests.filter { $0.path == "/cdn/\(sha)" && $0.method == "GET" }
    }

    func assertSnapshotComplete(_ root: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let repo = repoFolder(root)
        let snapshot = repo.appendingPathComponent("snapshots/\(Self.commit)")
        for name in Self.wanted {
            guard let expected = Self.file(name) else { return XCTFail("fixture lacks \(name)", file: file, line: line) }
            let path = snapshot.appendingPathComponent(name).path
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            XCTAssertEqual(target, "../../blobs/\(Self.blobName(expected))", name, file: file, line: line)
            XCTAssertEqual(FileManager.default.contents(atPath: path), expected.data, name, file: file, line: line)
        }
        let blobs = try FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("blobs").path)
        XCTAssertFalse(blobs.contains { $0.hasSuffix(".incomplete") }, "left-over partial files: \(blobs)", file: file, line: line)
    }

    // MARK: - Tests

    func testFreshDownloadCreatesHubCacheLayout() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        let reports = ProgressLog()
        let folder = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL),
                                              progress: reports.record)

        let repo = repoFolder(root)
        XCTAssertEqual(folder.standardizedFileURL.path,
                       repo.appendingPathComponent("snapshots/\(Self.commit)").standardizedFileURL.path)
        let ref = try String(contentsOf: repo.appendingPathComponent("refs/main"), encoding: .utf8)
        XCTAssertEqual(ref, Self.commit)
        try assertSnapshotComplete(root)

        // Only what FastVLM needs.
        let snapshotNames = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        XCTAssertEqual(snapshotNames, Set(Self.wanted))
        let blobs = try FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("blobs").path)
        XCTAssertEqual(blobs.count, Self.wanted.count)

        // The protocol as the hub speaks it.
        let requests = server.requests
        XCTAssertEqual(requests.first?.path, "/api/models/test-org/TinyVLM/revision/main")
        XCTAssertTrue(requests.first?.query.contains("blobs=true") ?? false)
        XCTAssertFalse(requests.contains { $0.path.contains("README") || $0.path.contains("onnx") || $0.path.contains("pytorch") })
        XCTAssertTrue(requests.contains { $0.path == "/test-org/TinyVLM/resolve/\(Self.commit)/\(Self.shard1)" && $0.status == 302 })
        XCTAssertEqual(cdnRequests(server, Self.shard1).count, 1)
        XCTAssertEqual(cdnRequests(server, Self.shard1).first?.headers["accept-encoding"], "identity")
        XCTAssertFalse(requests.contains { $0.method == "HEAD" }, "blob ids come from the API, no HEAD needed")

        // Progress: every downloaded file ends at its full size.
        let finals = reports.entries.filter(\.isComplete)
        XCTAssertEqual(Set(finals.map(\.file)), Set(Self.wanted))
        XCTAssertEqual(finals.first { $0.file == Self.shard1 }?.completed, Int64(3 << 20))
        XCTAssertTrue(reports.entries.allSatisfy { $0.fileCount == Self.wanted.count })
    }

    func testSecondResolveMakesNoRequests() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        let env = environment(root, endpoint: server.baseURL)
        let first = try ModelLocator.resolve(Self.repoName, environment: env)
        server.resetLog()
        let second = try ModelLocator.resolve(Self.repoName, environment: env)
        XCTAssertEqual(first, second)
        XCTAssertEqual(server.requests.count, 0, "a complete cached snapshot must not touch the network")
    }

    func testOfflineUsesCacheAndExplainsMissingModel() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        let online = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))
        server.resetLog()

        let offline = try ModelLocator.resolve(Self.repoName,
                                               environment: environment(root, endpoint: server.baseURL, ["HF_HUB_OFFLINE": "1"]))
        XCTAssertEqual(online, offline)

        let empty = try temporaryFolder()
        XCTAssertThrowsError(try ModelLocator.resolve(Self.repoName,
                                                      environment: environment(empty, endpoint: server.baseURL, ["HF_HUB_OFFLINE": "1"]))) { error in
            guard case HubError.notCachedOffline = error else { return XCTFail("unexpected \(error)") }
            let message = "\(error)"
            XCTAssertTrue(message.contains("HF_HUB_OFFLINE"), message)
            XCTAssertTrue(message.contains("huggingface-cli download test-org/TinyVLM"), message)
            XCTAssertTrue(message.contains("local model folder"), message)
        }
        XCTAssertEqual(server.requests.count, 0, "offline mode must never touch the network")
    }

    func testPartialDownloadIsResumedWithRangeRequest() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        guard let shard = Self.file(Self.shard1) else { return XCTFail("fixture") }
        let blobs = repoFolder(root).appendingPathComponent("blobs", isDirectory: true)
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let kept = 1_000_000
        try shard.data.prefix(kept).write(to: blobs.appendingPathComponent(Self.blobName(shard) + ".incomplete"))

        _ = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))

        let transfers = cdnRequests(server, Self.shard1)
        XCTAssertEqual(transfers.count, 1)
        XCTAssertEqual(transfers.first?.headers["range"], "bytes=\(kept)-")
        XCTAssertEqual(transfers.first?.status, 206)
        XCTAssertEqual(transfers.first?.bodyBytes, shard.data.count - kept, "only the rest is served")
        try assertSnapshotComplete(root)
    }

    func testDroppedConnectionIsResumedInTheSameRun() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        server.truncateOnce[Self.shard1] = 600_000
        _ = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))

        let transfers = cdnRequests(server, Self.shard1)
        XCTAssertEqual(transfers.count, 2)
        XCTAssertNil(transfers.first?.headers["range"])
        XCTAssertEqual(transfers.last?.headers["range"], "bytes=600000-")
        try assertSnapshotComplete(root)
    }

    func testCorruptedBlobIsDetectedAndFetchedAgain() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        server.corruptOnce = [Self.shard2]
        _ = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))
        let transfers = cdnRequests(server, Self.shard2)
        XCTAssertEqual(transfers.count, 2, "the bad copy is thrown away and fetched again")
        XCTAssertNil(transfers.last?.headers["range"], "the second fetch starts from scratch")
        try assertSnapshotComplete(root)
    }

    func testPersistentCorruptionIsAnErrorNamingTheFile() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        server.corruptAlways = [Self.shard2]
        XCTAssertThrowsError(try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))) { error in
            guard case HubError.integrityFailure(_, let file, _) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(file, Self.shard2)
            XCTAssertTrue("\(error)".contains(Self.shard2) && "\(error)".contains("SHA-256"), "\(error)")
        }
        XCTAssertEqual(cdnRequests(server, Self.shard2).count, 2, "one retry, not more")
        let blobs = try FileManager.default.contentsOfDirectory(atPath: repoFolder(root).appendingPathComponent("blobs").path)
        let shardBlob = Self.file(Self.shard2).map(Self.blobName) ?? "?"
        XCTAssertFalse(blobs.contains { $0.hasPrefix(shardBlob) }, "the corrupt file is deleted")
        XCTAssertFalse(FileManager.default.fileExists(atPath: repoFolder(root).appendingPathComponent("refs/main").path))
    }

    func testBadRepoIDsAreClearErrors() throws {
        let root = try temporaryFolder()
        // Nothing listens on this endpoint: a bad id must fail before any request.
        let env = environment(root, endpoint: "http://127.0.0.1:9")
        let cases = ["justaname", "a/b/c", "owner/na--me", "owner/-name", "own er/name", "owner/", "/does/not/exist", "./missing", ""]
        for spec in cases {
            XCTAssertThrowsError(try ModelLocator.resolve(spec, environment: env), spec) { error in
                guard case HubError.invalidModelSpec = error else { return XCTFail("\(spec): unexpected \(error)") }
                XCTAssertTrue("\(error)".contains("owner/name"), "\(error)")
            }
        }
        XCTAssertNoThrow(try HubRepoID("apple/FastVLM-0.5B"))
        XCTAssertNoThrow(try HubRepoID("mlx-community/FastVLM_1.5B.bf16"))
    }

    func testUnknownRepoIsAClearNotFoundError() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        XCTAssertThrowsError(try ModelLocator.resolve("test-org/Missing", environment: environment(root, endpoint: server.baseURL))) { error in
            guard case HubError.repoNotFound = error else { return XCTFail("unexpected \(error)") }
            let message = "\(error)"
            XCTAssertTrue(message.contains("'test-org/Missing' was not found on \(server.baseURL)"), message)
            XCTAssertTrue(message.contains("HF_TOKEN"), message)
        }
    }

    func testUnreachableEndpointIsAClearError() throws {
        let server = try HubTestServer()
        let closed = server.baseURL
        server.stop()
        let root = try temporaryFolder()
        XCTAssertThrowsError(try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: closed))) { error in
            guard case HubError.network = error else { return XCTFail("unexpected \(error)") }
            XCTAssertTrue("\(error)".contains("HF_HUB_OFFLINE"), "\(error)")
        }
    }

    func testMissingFileIsAClearError() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        server.missingFiles = ["tokenizer.json"]
        XCTAssertThrowsError(try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))) { error in
            guard case HubError.fileNotFound(_, let file, let status) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(file, "tokenizer.json")
            XCTAssertEqual(status, 404)
        }
    }

    func testRepoWithoutWeightsIsRejectedBeforeDownloading() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        server.repos["test-org/NoWeights"] = HubTestServer.Repo(commit: Self.commit, files: [
            .init(name: "config.json", data: Data("{}".utf8), lfs: false),
            .init(name: "pytorch_model.bin", data: Data(count: 10), lfs: true),
        ])
        XCTAssertThrowsError(try ModelLocator.resolve("test-org/NoWeights", environment: environment(root, endpoint: server.baseURL))) { error in
            guard case HubError.missingRequiredFiles(_, let missing) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(missing.count, 2, "\(missing)")
        }
        XCTAssertEqual(server.requests.count, 1, "only the revision API was asked")
    }

    func testTokenIsSentToTheHubButNotToOtherHosts() throws {
        let hub = try startServer()
        let cdn = try startServer()
        hub.cdnBase = cdn.baseURL
        let root = try temporaryFolder()
        _ = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: hub.baseURL, ["HF_TOKEN": "hf_test_token"]))

        XCTAssertFalse(hub.requests.isEmpty)
        for request in hub.requests {
            XCTAssertEqual(request.headers["authorization"], "Bearer hf_test_token", request.path)
        }
        XCTAssertEqual(cdn.requests.count, 2, "both shards come from the other host")
        for request in cdn.requests {
            XCTAssertNil(request.headers["authorization"], "the token must not leak to \(request.path)")
        }
        try assertSnapshotComplete(root)
    }

    func testTokenFileIsUsedWithoutHFToken() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        let home = root.appendingPathComponent("hf-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try "hf_from_file\n".write(to: home.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        _ = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))
        XCTAssertEqual(server.requests.first?.headers["authorization"], "Bearer hf_from_file")
    }

    func testETagFromHeadWhenTheAPIHasNoBlobIDs() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        server.includeBlobIds = false
        _ = try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL))
        let heads = server.requests.filter { $0.method == "HEAD" }
        XCTAssertEqual(heads.count, 4, "one HEAD per non-LFS file")
        try assertSnapshotComplete(root)
    }

    func testIncompleteSnapshotIsRepairedOnline() throws {
        let server = try startServer()
        let root = try temporaryFolder()
        let env = environment(root, endpoint: server.baseURL)
        _ = try ModelLocator.resolve(Self.repoName, environment: env)
        guard let shard = Self.file(Self.shard2) else { return XCTFail("fixture") }
        try FileManager.default.removeItem(at: repoFolder(root).appendingPathComponent("blobs/\(Self.blobName(shard))"))
        server.resetLog()

        XCTAssertThrowsError(try ModelLocator.resolve(Self.repoName, environment: environment(root, endpoint: server.baseURL,
                                                                                               ["HF_HUB_OFFLINE": "1"]))) { error in
            XCTAssertTrue("\(error)".contains(Self.shard2), "\(error)")
        }
        _ = try ModelLocator.resolve(Self.repoName, environment: env)
        XCTAssertEqual(cdnRequests(server, Self.shard2).count, 1)
        XCTAssertEqual(cdnRequests(server, Self.shard1).count, 0, "blobs already present are reused")
        try assertSnapshotComplete(root)
    }

    func testLocalFolderIsUsedAsIs() throws {
        let root = try temporaryFolder()
        let env = environment(root, endpoint: "http://127.0.0.1:9")
        XCTAssertEqual(try ModelLocator.resolve(root.path, environment: env).standardizedFileURL.path,
                       root.standardizedFileURL.path)
        let file = root.appendingPathComponent("weights.safetensors")
        try Data().write(to: file)
        XCTAssertThrowsError(try ModelLocator.resolve(file.path, environment: env)) { error in
            guard case HubError.notAFolder = error else { return XCTFail("unexpected \(error)") }
        }
    }
}

/// Collects progress reports from the download thread.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [HubProgress] = []

    var entries: [HubProgress] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func record(_ progress: HubProgress) {
        lock.lock()
        stored.append(progress)
        lock.unlock()
    }
}
