import Foundation
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
