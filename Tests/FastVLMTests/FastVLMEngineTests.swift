import Foundation
import Ops
import XCTest
@testable import FastVLM

/// The engine's own rules, on the tiny checkpoint: stop strings, a full queue, a caller that
/// goes away, and requests it must refuse before they reach the GPU.
final class FastVLMEngineTests: XCTestCase {
    var image: Data { get throws { try Data(contentsOf: Fixtures.root.appending(path: "preprocess/photo.jpg")) } }

    func engine(slots: Int = 2, queue: Int = 4) throws -> FastVLMEngine {
        var runtime = RuntimeOptions()
        runtime.contextTokens = 512
        var options = EngineOptions()
        options.slots = slots
        options.queueLimit = queue
        return try FastVLMEngine(folder: Fixtures.apple, runtime: runtime, options: options)
    }

    func request(_ prompt: String, maxTokens: Int) throws -> ChatRequest {
        var r = ChatRequest(prompt: prompt, image: try image)
        r.maxTokens = maxTokens
        return r
    }

    func testStopStringEndsTheAnswerBeforeIt() async throws {
        let e = try engine()
        defer { e.stop() }
        let full = try await e.complete(try request("Describe the image.", maxTokens: 24))
        XCTAssertEqual(full.finish, .length)
        let chars = Array(full.text)
        guard chars.count >= 6 else { return XCTFail("the answer '\(full.text)' is too short to cut") }
        let stop = String(chars[3..<6])
        var r = try request("Describe the image.", maxTokens: 24)
        r.stop = [stop]
        let cut = try await e.complete(r)
        XCTAssertEqual(cut.finish, .stop)
        XCTAssertEqual(cut.text, String(full.text[..<full.text.range(of: stop)!.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testFullQueueRefusesAndLeavingFreesTheSlot() async throws {
        let e = try engine(slots: 1, queue: 0)
        defer { e.stop() }
        // The first takes the only slot; with no room to wait, the second is refused.
        var first = e.answer(try request("Describe the image.", maxTokens: 480)).makeAsyncIterator()
        guard case .started? = try await first.next() else { return XCTFail("the first request did not start") }
        do {
            for try await _ in e.answer(try request("Name the colours.", maxTokens: 4)) {}
            XCTFail("a second request was accepted with the only slot taken and no queue")
        } catch let error as EngineError {
            XCTAssertEqual(error.kind, .queueFull)
        }
        // The first caller goes away after one piece of text: its slot frees long before 480 tokens.
        _ = try await first.next()
        first = AsyncThrowingStream<ChatEvent, Error> { $0.finish() }.makeAsyncIterator()
        let deadline = Date().addingTimeInterval(120)
        while e.statistics.active > 0 || e.statistics.waiting > 0, Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(e.statistics.active, 0)
        XCTAssertLessThan(e.statistics.generatedTokens, 480)
        let next = try await e.complete(try request("Name the colours.", maxTokens: 4))
        XCTAssertEqual(next.completionTokens, 4)
    }

    func testRefusals() async throws {
        let e = try engine()
        defer { e.stop() }
        func kind(_ r: ChatRequest) async -> EngineError.Kind? {
            do { for try await _ in e.answer(r) {} } catch let error as EngineError { return error.kind } catch { return nil }
            return nil
        }
        let tooLong = try request(String(repeating: "word ", count: 2000), maxTokens: 8)
        let empty = try request("  ", maxTokens: 8)
        var notImage = try request("Hi", maxTokens: 8)
        notImage.image = Data("not an image".utf8)
        var assistantLast = try request("Hi", maxTokens: 8)
        assistantLast.messages.append(ChatMessage(.assistant, "Hello"))
        let cases: [(ChatRequest, EngineError.Kind)] = [(tooLong, .contextExceeded), (empty, .badRequest), (notImage, .badImage), (assistantLast, .badRequest)]
        for (r, expected) in cases {
            let got = await kind(r)
            XCTAssertEqual(got, expected)
        }
        // A later turn of a conversation is answered (its tokens follow the first turn's).
        var chat = try request("Describe the image.", maxTokens: 4)
        chat.messages += [ChatMessage(.assistant, "A picture."), ChatMessage(.user, "What else?")]
        let answer = try await e.complete(chat)
        XCTAssertEqual(answer.completionTokens, 4)
    }
}
