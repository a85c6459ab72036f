import Foundation
import XCTest

/// `profile` and `bench model` on the tiny fixture: the tables a user reads and the files and
/// JSON a script reads.
final class ProfileAndBenchCommandTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "FastVLMTests/Fixtures")

    func testProfilePrintsEveryPhaseAndWritesATrace() throws {
        let trace = FileManager.default.temporaryDirectory.appending(path: "fastvlm-trace-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: trace) }
        let r = try runCLI(["profile", "--model", fixtures.appending(path: "tiny-hf").path,
                            "--pixel-values", fixtures.appending(path: "goldens/pixel_values.npy").path,
                            "--prompt", "Describe the image.", "--max-tokens", "4", "--trace", trace.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        for phase in ["vision", "projector", "prefill", "decode"] {
            XCTAssertTrue(r.stdout.contains("== \(phase): GPU"), "phase \(phase) missing:\n\(r.stdout)")
        }
        XCTAssertTrue(r.stdout.contains("depthwise7x7"), r.stdout)
        // One decode replay per generated token after the first: 3 submits, 4 bytes each.
        XCTAssertTrue(r.stdout.contains("3 submits, 12 bytes read back"), r.stdout)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: trace)) as? [String: Any]
        let events = object?["traceEvents"] as? [[String: Any]]
        let phases = events?.filter { $0["cat"] as? String == "phase" }.compactMap { $0["name"] as? String }
        XCTAssertEqual(phases, ["vision", "projector", "prefill", "decode"])
        let dispatches = events?.filter { $0["cat"] as? String == "dispatch" } ?? []
        XCTAssertGreaterThan(dispatches.count, 50)
        // Decode replays follow each other in time instead of overlapping.
        let decodeStarts = dispatches.filter { $0["name"] as? String == "lm_head" }.compactMap { $0["ts"] as? Double }
        XCTAssertEqual(decodeStarts.count, 4, "one LM head in prefill and one per decode replay")
        XCTAssertEqual(decodeStarts, decodeStarts.sorted())
        XCTAssertEqual(Set(decodeStarts).count, decodeStarts.count)
    }

    func testProfileRefusesTheCPUBackend() throws {
        let r = try runCLI(["profile", "--model", fixtures.appending(path: "tiny-hf").path, "--backend", "cpu",
                            "--pixel-values", fixtures.appending(path: "goldens/pixel_values.npy").path, "--prompt", "Hi"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--backend gpu"), r.stderr)
    }

    func testBenchModelJSON() throws {
        let r = try runCLI(["bench", "--model", fixtures.appending(path: "tiny-apple").path, "--repetitions", "2", "--warmups", "1",
                            "--decode-tokens", "3", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["image_size"] as? Int, 128)
        XCTAssertEqual(report?["repetitions"] as? Int, 2)
        let figures = report?["figures"] as? [[String: Any]] ?? []
        XCTAssertEqual(figures.count, 9)
        for f in figures {
            let best = f["best"] as? Double ?? -1, median = f["median"] as? Double ?? -1
            XCTAssertGreaterThan(best, 0, "\(f)")
            XCTAssertGreaterThan(median, 0, "\(f)")
        }
        XCTAssertGreaterThan(report?["baseline_gemm_gflops"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(report?["baseline_gemv_gbps"] as? Double ?? 0, 0)
    }
}
