import Foundation
import XCTest
@testable import FastVLM

/// Environment handling, file selection and the progress bar (no network).
final class HubConfigurationTests: XCTestCase {
    func testCacheFolderPrecedence() throws {
        let base = ["HOME": "/home/u"]
        XCTAssertEqual(try HubConfiguration(environment: base).cacheDirectory.path, "/home/u/.cache/huggingface/hub")
        XCTAssertEqual(try HubConfiguration(environment: base.merging(["XDG_CACHE_HOME": "/xdg"]) { $1 }).cacheDirectory.path,
                       "/xdg/huggingface/hub")
        XCTAssertEqual(try HubConfiguration(environment: base.merging(["HF_HOME": "/hf"]) { $1 }).cacheDirectory.path, "/hf/hub")
        XCTAssertEqual(try HubConfiguration(environment: base.merging(["HF_HOME": "/hf", "HF_HUB_CACHE": "/cache"]) { $1 })
            .cacheDirectory.path, "/cache")
        XCTAssertEqual(try HubConfiguration(environment: base.merging(["HF_HUB_CACHE": "~/models"]) { $1 }).cacheDirectory.path,
                       "/home/u/models")
    }

    func testEndpointTokenAndOffline() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("hub-config-\(UUID().uuidString)").path
        let defaults = try HubConfiguration(environment: ["HOME": home])
        XCTAssertEqual(defaults.endpoint.absoluteString, "https://huggingface.co")
        XCTAssertNil(defaults.token)
        XCTAssertFalse(defaults.offline)

        let custom = try HubConfiguration(environment: ["HOME": home, "HF_ENDPOINT": "https://hf-mirror.example/", "HF_TOKEN": "hf_x",
                                                        "HF_HUB_OFFLINE": "1"])
        XCTAssertEqual(custom.endpoint.absoluteString, "https://hf-mirror.example")
        XCTAssertEqual(custom.token, "hf_x")
        XCTAssertTrue(custom.offline)
        for value in ["true", "YES", "on"] {
            XCTAssertTrue(try HubConfiguration(environment: ["HOME": home, "HF_HUB_OFFLINE": value]).offline, value)
        }
        for value in ["0", "false", ""] {
            XCTAssertFalse(try HubConfiguration(environment: ["HOME": home, "HF_HUB_OFFLINE": value]).offline, value)
        }
        XCTAssertThrowsError(try HubConfiguration(environment: ["HOME": home, "HF_ENDPOINT": "ftp://x"]))
    }

    func testWantedFiles() {
        for name in ["config.json", "model.safetensors", "model-00001-of-00004.safetensors", "model.safetensors.index.json",
                     "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "added_tokens.json",
                     "special_tokens_map.json", "preprocessor_config.json", "processor_config.json",
                     "generation_config.json", "chat_template.json"] {
            XCTAssertTrue(ModelLocator.isWanted(name), name)
        }
        for name in ["README.md", ".gitattributes", "pytorch_model.bin", "onnx/model.safetensors", "model.gguf"] {
            XCTAssertFalse(ModelLocator.isWanted(name), name)
        }
    }

    func testHeaderParsing() {
        XCTAssertEqual(HubSnapshotDownloader.normalizeETag("W/\"abc\""), "abc")
        XCTAssertEqual(HubSnapshotDownloader.normalizeETag("\"abc\""), "abc")
        XCTAssertEqual(HubSnapshotDownloader.contentRangeStart("bytes 100-199/200"), 100)
        XCTAssertNil(HubSnapshotDownloader.contentRangeStart("bytes */200"))
        XCTAssertFalse(HubRepoCache.isSafeComponent("../x"))
        XCTAssertFalse(HubRepoCache.isSafeComponent("a/b"))
        XCTAssertTrue(HubRepoCache.isSafeComponent("0123abcd"))
    }

    func testProgressLine() {
        let progress = HubProgress(file: "model.safetensors", completed: 512 << 20, total: 1024 << 20, fileIndex: 2, fileCount: 9)
        let line = HubProgressBar.render(progress, elapsed: 2, sessionBytes: 64 << 20)
        XCTAssertEqual(line, "[2/9] model.safetensors  [##########..........]   50%  512.0/1024.0 MB  32.0 MB/s")
        let unknown = HubProgress(file: "x", completed: 1 << 20, total: nil, fileIndex: 1, fileCount: 1)
        XCTAssertEqual(HubProgressBar.render(unknown, elapsed: 0, sessionBytes: 0), "[1/1] x  1.0 MB")
    }

    func testProgressBarDrawsOnlyWhenEnabled() {
        var quiet = ""
        let off = HubProgressBar(enabled: false) { quiet += $0 }
        off.update(HubProgress(file: "a", completed: 1, total: 2, fileIndex: 1, fileCount: 1))
        off.finish()
        XCTAssertEqual(quiet, "")

        var shown = ""
        let on = HubProgressBar(enabled: true) { shown += $0 }
        on.update(HubProgress(file: "a", completed: 1, total: 2, fileIndex: 1, fileCount: 2))
        on.update(HubProgress(file: "a", completed: 2, total: 2, fileIndex: 1, fileCount: 2))
        on.update(HubProgress(file: "b", completed: 2, total: 2, fileIndex: 2, fileCount: 2))
        on.finish()
        XCTAssertTrue(shown.hasPrefix("\r[1/2] a"), shown)
        XCTAssertTrue(shown.contains(" 100%"), shown)
        XCTAssertEqual(shown.filter { $0 == "\n" }.count, 2, "one line per file")
        XCTAssertTrue(shown.hasSuffix("\n"))
    }
}
