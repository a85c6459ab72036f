import XCTest
import Ops
@testable import FastVLM

/// A second chat turn continues the KV cache: its answer equals what the whole conversation,
/// run from scratch as one prompt, gives.
final class ChatSessionTests: XCTestCase {
    func check(_ backend: RuntimeOptions.Backend) throws {
        var runtime = RuntimeOptions()
        runtime.backend = backend
        runtime.weights = .format(.f32)
        let pipeline = try FastVLMPipeline(folder: Fixtures.apple, runtime: runtime)
        var request = GenerationRequest(prompt: "")
        request.pixelValues = Fixtures.goldens.appending(path: "pixel_values.npy")
        request.maxTokens = 5
        let session = ChatSession(pipeline: pipeline, image: request)
        let first = try session.ask("Describe the image.")
        // One token: the logits left behind are the second prefill's.
        let second = try session.ask("What colour is it?", maxTokens: 1)
        XCTAssertEqual(first.tokenIDs.count, 5)
        // The last answer token is fed with the next turn (it was sampled, not yet run).
        XCTAssertEqual(session.length, first.promptTokens + 4 + second.promptTokens)
        let continued = try pipeline.language.lastLogits()

        // The same conversation as one prompt, from an empty cache.
        request.prompt = "Describe the image."
        let opening = try pipeline.promptIDs(request)
        let carry = first.tokenIDs.suffix(1) + pipeline.tokenizer.encode("<|im_end|>")
        let rest = carry + pipeline.tokenizer.encode("\n<|im_start|>user\nWhat colour is it?<|im_end|>\n<|im_start|>assistant\n")
        let whole = SplicedPrompt(slots: opening.slots + first.tokenIDs.dropLast().map { Optional($0) } + rest.map { Optional($0) })
        var t = Timings()
        let rows = try pipeline.encodeImage(try pipeline.pixels(request), timings: &t, dump: nil)
        pipeline.language.reset()
        var rng = SplitMix64(seed: 0)
        let token = try pipeline.language.prefill(whole, image: rows, sampling: SamplingParameters(), rng: &rng)
        XCTAssertEqual(token, second.tokenIDs.first)
        XCTAssertLessThanOrEqual(normalisedMaxError(continued, try pipeline.language.lastLogits()), 1e-4)
    }

    func testCPU() throws { try check(.cpu) }
    func testGPU() throws { try check(.gpu) }
}
