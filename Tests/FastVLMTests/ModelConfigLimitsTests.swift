import XCTest
@testable import FastVLM

/// Sizes in config.json are bounded before anything is allocated from them.
final class ModelConfigLimitsTests: XCTestCase {
    /// The tiny Apple config with `changes` applied, read back through `ModelConfig`.
    func config(_ changes: [String: Any], preprocessor: [String: Any]? = nil) throws -> ModelConfig {
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.apple.appending(path: "config.json"))) as? [String: Any])
        json.merge(changes) { $1 }
        let folder = FileManager.default.temporaryDirectory.appending(path: "config-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try JSONSerialization.data(withJSONObject: json).write(to: folder.appending(path: "config.json"))
        if let preprocessor { try JSONSerialization.data(withJSONObject: preprocessor).write(to: folder.appending(path: "preprocessor_config.json")) }
        return try ModelConfig(folder: folder)
    }

    func assertRejected(_ changes: [String: Any], preprocessor: [String: Any]? = nil, mentions: String, line: UInt = #line) {
        XCTAssertThrowsError(try config(changes, preprocessor: preprocessor), line: line) { error in
            XCTAssertTrue("\(error)".contains(mentions), "\(error) does not mention \(mentions)", line: line)
        }
    }

    func testUnchangedConfigLoads() throws {
        let c = try config([:])
        XCTAssertEqual(c.text.hiddenSize, 64)
        XCTAssertEqual(c.imageSize, 128)
        XCTAssertEqual(c.eosTokenIDs, [444])
    }

    func testSizesAboveTheirBoundsAreRejected() {
        assertRejected(["hidden_size": 1 << 40], mentions: "hidden_size")
        assertRejected(["num_hidden_layers": 100_000], mentions: "num_hidden_layers")
        assertRejected(["num_attention_heads": 1 << 20], mentions: "num_attention_heads")
        assertRejected(["intermediate_size": Int(Int32.max)], mentions: "intermediate_size")
        assertRejected(["vocab_size": 1e300], mentions: "vocab_size")
        assertRejected(["max_position_embeddings": 1 << 40], mentions: "max_position_embeddings")
        assertRejected(["head_dim": 1 << 20], mentions: "head_dim")
        assertRejected(["mm_vision_tower": "mobileclip_l_99999999999999999"], mentions: "mm_vision_tower")
    }

    func testNegativeFractionalAndNonNumericSizesAreRejected() {
        assertRejected(["hidden_size": -64], mentions: "hidden_size")
        assertRejected(["hidden_size": 64.5], mentions: "hidden_size")
        assertRejected(["num_key_value_heads": "two"], mentions: "num_key_value_heads")
        assertRejected(["eos_token_id": [444, -1]], mentions: "eos_token_id")
        assertRejected(["rope_theta": -1], mentions: "rope_theta")
        assertRejected(["rms_norm_eps": 1e300], mentions: "rms_norm_eps")
    }

    func testDerivedSizesAreBounded() {
        // Each within its own bound, the embedding (vocab x hidden) is not.
        assertRejected(["vocab_size": 4_000_000, "hidden_size": 65_536, "num_attention_heads": 512], mentions: "embedding")
    }

    func testImageSequenceLengthIsBounded() {
        let hf: [String: Any] = ["model_type": "fast_vlm", "text_config": ["hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1,
                                                                           "intermediate_size": 96, "vocab_size": 448]]
        assertRejected(hf.merging(["image_seq_length": -4]) { $1 }, mentions: "image_seq_length")
        assertRejected(hf.merging(["image_seq_length": 1 << 40]) { $1 }, mentions: "image_seq_length")
        assertRejected(hf, preprocessor: ["crop_size": ["height": 1 << 30]], mentions: "height")
        XCTAssertEqual(try config(hf.merging(["image_seq_length": 4]) { $1 }).imageSize, 128)
    }
}
