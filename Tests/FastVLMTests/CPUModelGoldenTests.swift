import XCTest
import Ops
@testable import FastVLM

/// The CPU reference model against transformers' goldens, for both checkpoint layouts.
final class CPUModelGoldenTests: XCTestCase {
    func check(_ folder: URL, layout: CheckpointLayout) throws {
        let golden = try Fixtures.golden()
        let model = try LoadedModel(folder: folder)
        XCTAssertEqual(model.config.layout, layout)
        let pixels = try Fixtures.npy("pixel_values.npy")
        let s = model.config.imageSize
        XCTAssertEqual(pixels.shape, [1, 3, s, s])

        let features = try FastViTHD.forward(model.weights.vision, pixels: HostMap(values: pixels.values, channels: 3, height: s, width: s), on: CPUVisionBackend())
        let goldenFeatures = try Fixtures.npy("vision_features.npy")
        XCTAssertEqual([1, features.height, features.channels], goldenFeatures.shape)
        XCTAssertLessThanOrEqual(normalisedMaxError(features.values, goldenFeatures.values), 1e-4, "vision features")

        let projected = try model.weights.projector.forwardCPU(features.values, count: features.height)
        XCTAssertLessThanOrEqual(normalisedMaxError(projected, try Fixtures.npy("projector_out.npy").values), 1e-4, "projector")

        let prompt = layout == .apple
            ? SplicedPrompt.apple(ids: golden.apple_input_ids, imageTokens: golden.image_tokens)
            : SplicedPrompt.huggingFace(ids: golden.hf_input_ids, imageTokenID: golden.image_token_id)
        let language = model.weights.language
        let backend = CPULanguageBackend(config: language.config)
        let rows = try language.embed(prompt, image: projected)
        let h = language.config.hiddenSize
        var logits = try Qwen2.forward(language, embeddings: HostRows(values: rows, rows: prompt.count, width: h), on: backend).values
        let goldenLogits = try Fixtures.npy("logits_last.npy").values
        let logitError = normalisedMaxError(Array(logits.prefix(golden.logits_rows)), goldenLogits)
        XCTAssertLessThanOrEqual(logitError, 1e-4, "last-position logits")

        var tokens: [Int] = []
        for _ in 0..<golden.greedy_tokens.count {
            let next = Reference.argmax(logits, count: golden.sample_vocab)
            tokens.append(next)
            let row = try language.embedTokens.rows(next..<next + 1)
            logits = try Qwen2.forward(language, embeddings: HostRows(values: row, rows: 1, width: h), on: backend).values
        }
        XCTAssertEqual(tokens, golden.greedy_tokens)
    }

    func testAppleLayout() throws { try check(Fixtures.apple, layout: .apple) }
    func testHuggingFaceLayout() throws { try check(Fixtures.hf, layout: .huggingFace) }
}
