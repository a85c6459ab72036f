import Foundation
import GPUTestSupport
import XCTest

/// `fastvlm-gpu serve` with the tiny fixture, driven by the real `openai` Python package
/// (Support/openai_checks.py): answers equal `run`'s greedy output, concurrent requests are
/// batched without changing anyone's answer, a repeated image skips the vision encoder, and
/// bad requests get their documented status while the server keeps answering.
final class ServerTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "FastVLMTests/Fixtures")
    static let model = fixtures.appending(path: "tiny-apple").path
    static let image = fixtures.appending(path: "preprocess/photo.jpg").path
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Support/openai_checks.py").path
    static let key = "test-key"
    static let maxTokens = 12
    nonisolated(unsafe) static var server: ServerProcess?

    override class func tearDown() {
        server?.stop()
        server = nil
    }

    /// One server for the whole class (loading the model is the slow part).
    func runningServer() throws -> ServerProcess {
        if let s = Self.server { return s }
        let s = try ServerProcess(arguments: ["--model", Self.model, "--api-key", Self.key, "--slots", "8", "--context", "512"])
        Self.server = s
        return s
    }

    /// Runs the client script; a missing `openai` package skips, or fails under CI.
    func client(_ command: String, prompts: [String], stream: Bool = false) throws -> Any {
        let server = try runningServer()
        var arguments = [Self.script, command, "--base", server.base, "--key", Self.key, "--model", Self.model, "--image", Self.image,
                         "--max-tokens", String(Self.maxTokens)]
        for p in prompts { arguments += ["--prompt", p] }
        if stream { arguments.append("--stream") }
        let r = try runProgram(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments)
        if r.status == 3 { throw MissingPrerequisite.error("the Python package openai is not installed (pip install -r tools/requirements.txt)") }
        guard r.status == 0 else { throw ServerTestError("openai_checks.py \(command) failed (\(r.status)): \(r.stderr)\nserver log:\n\(server.serverLog)") }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    /// `run --json`'s greedy answer for the same image and prompt.
    func runAnswer(_ prompt: String) throws -> String {
        let r = try runProgram(try fastvlmBinary(), ["run", "--model", Self.model, "--image", Self.image, "--prompt", prompt,
                                                      "--max-tokens", String(Self.maxTokens), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return try XCTUnwrap(object?["text"] as? String)
    }

    func testPlainAndStreamedAnswersEqualRun() throws {
        let prompt = "Describe the image."
        let expected = try runAnswer(prompt)
        for stream in [false, true] {
            let answer = try XCTUnwrap(client("answer", prompts: [prompt], stream: stream) as? [String: Any])
            XCTAssertEqual(answer["text"] as? String, expected, "stream: \(stream)")
            let usage = try XCTUnwrap(answer["usage"] as? [String: Int], "stream: \(stream)")
            XCTAssertGreaterThan(usage["prompt_tokens"] ?? 0, 0)
            XCTAssertTrue(["stop", "length"].contains(answer["finish_reason"] as? String ?? ""), "\(answer)")
            if answer["finish_reason"] as? String == "length" { XCTAssertEqual(usage["completion_tokens"], Self.maxTokens) }
        }
    }

    func testConcurrentRequestsGetTheirOneAtATimeAnswers() throws {
        let prompts = ["What is in the picture?", "Name the colours.", "Is it day or night?", "Count the objects.",
                       "Describe the image.", "What is the weather?", "Who took the photo?", "Write a caption."]
        let alone = try XCTUnwrap(client("sequential", prompts: prompts) as? [[String: Any]]).map { $0["text"] as? String }
        let together = try XCTUnwrap(client("concurrent", prompts: prompts) as? [[String: Any]]).map { $0["text"] as? String }
        XCTAssertEqual(together, alone)
        // One-at-a-time through the server is `run`'s answer too.
        XCTAssertEqual(alone[0], try runAnswer(prompts[0]))
    }

    func testRepeatedImageSkipsTheVisionEncoder() throws {
        let server = try runningServer()
        let runs = try server.metric("fastvlm_vision_encoder_runs_total")
        let hits = try server.metric("fastvlm_image_cache_hits_total")
        let answers = try XCTUnwrap(client("repeat", prompts: ["What is in the picture?", "Name the colours.", "What is in the picture?"]) as? [[String: Any]])
        XCTAssertEqual(answers.count, 3)
        XCTAssertEqual(answers[0]["text"] as? String, answers[2]["text"] as? String)
        XCTAssertEqual(try server.metric("fastvlm_vision_encoder_runs_total"), runs + 1)
        XCTAssertEqual(try server.metric("fastvlm_image_cache_hits_total"), hits + 2)
    }

    /// A client that goes away frees its slot: the answer stops long before its token limit.
    func testClientThatDisconnectsIsCancelled() throws {
        let server = try runningServer()
        let before = try server.metric("fastvlm_generated_tokens_total")
        let r = try XCTUnwrap(client("disconnect", prompts: []) as? [String: Any])
        XCTAssertEqual(r["gave_up"] as? Bool, true, "the answer came back within the client's 0.3 s")
        let deadline = Date().addingTimeInterval(120)
        while try server.metric("fastvlm_active_requests") > 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertEqual(try server.metric("fastvlm_active_requests"), 0)
        XCTAssertLessThan(try server.metric("fastvlm_generated_tokens_total") - before, 470)
        XCTAssertEqual(try XCTUnwrap(client("answer", prompts: ["Describe the image."]) as? [String: Any])["finish_reason"] as? String, "length")
    }

    func testBadRequestsGetTheirStatusAndTheServerKeepsAnswering() throws {
        let r = try XCTUnwrap(client("errors", prompts: []) as? [String: Any])
        XCTAssertEqual(r["malformed_json"] as? Int, 400, "\(r)")
        let body = try XCTUnwrap((r["malformed_json_body"] as? [String: Any])?["error"] as? [String: Any], "\(r)")
        XCTAssertEqual(body["type"] as? String, "invalid_request_error")
        XCTAssertEqual(r["bad_base64"] as? Int, 400, "\(r)")
        XCTAssertEqual(r["not_image"] as? Int, 400, "\(r)")
        XCTAssertEqual(r["huge_image"] as? Int, 413, "\(r)")
        XCTAssertEqual(r["over_context"] as? Int, 400, "\(r)")
        XCTAssertEqual(r["unknown_model"] as? Int, 404, "\(r)")
        XCTAssertEqual(r["wrong_key"] as? Int, 401, "\(r)")
        XCTAssertEqual(r["missing_key"] as? Int, 401, "\(r)")
        XCTAssertEqual(r["after"] as? Int, 200, "\(r)")
        let server = try runningServer()
        XCTAssertEqual(try server.get("/health").status, 200)
        XCTAssertTrue(try server.get("/metrics").body.contains("fastvlm_requests_total{status=\"413\"}"))
    }
}
