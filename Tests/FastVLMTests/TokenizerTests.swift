import XCTest
@testable import FastVLM

/// Parity with Hugging Face `tokenizers` on a varied corpus (ids from tools/make_fixtures.py).
final class TokenizerTests: XCTestCase {
    struct Entry: Decodable { let text: String; let tiny: [Int]; let qwen2: [Int]? }

    func corpus() throws -> [Entry] {
        try JSONDecoder().decode([Entry].self, from: Data(contentsOf: Fixtures.root.appending(path: "tokenizer/corpus.json")))
    }

    func checkParity(_ tokenizer: Tokenizer, _ expected: (Entry) -> [Int]?) throws {
        var checked = 0
        for e in try corpus() {
            guard let ids = expected(e) else { continue }
            XCTAssertEqual(tokenizer.encode(e.text), ids, "encode \(e.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(ids), e.text.precomposedStringWithCanonicalMapping, "decode round trip")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
    }

    func testTinyVocabularyFromVocabAndMerges() throws {
        try checkParity(try Tokenizer(folder: Fixtures.apple)) { $0.tiny }
    }

    func testTinyVocabularyFromTokenizerJSON() throws {
        let tokenizer = try Tokenizer(folder: Fixtures.hf)
        // The HF tokenizer also knows `<image>` as a special token; the corpus ids were made without it.
        try checkParity(tokenizer) { $0.text.contains("<image>") ? nil : $0.tiny }
        XCTAssertEqual(tokenizer.encode("<image>"), [try Fixtures.golden().image_token_id])
    }

    /// The real Qwen2 vocabulary (skipped where it was not prepared, failed under CI).
    func testRealQwen2Vocabulary() throws {
        let tokenizer = try Tokenizer(folder: try Fixtures.qwen2Tokenizer())
        XCTAssertEqual(tokenizer.id(of: "<|im_end|>"), 151645)
        try checkParity(tokenizer) { $0.qwen2 }
    }

    func testChatPromptMatchesGoldenIDs() throws {
        let golden = try Fixtures.golden()
        let tokenizer = try Tokenizer(folder: Fixtures.apple)
        let prompt = ChatPrompt(system: golden.system, user: golden.prompt)
        XCTAssertEqual(prompt.appleIDs(tokenizer), golden.apple_input_ids)
        let hf = try Tokenizer(folder: Fixtures.hf)
        XCTAssertEqual(prompt.huggingFaceIDs(hf, imageTokenID: golden.image_token_id, imageTokens: golden.image_tokens), golden.hf_input_ids)
    }

    func testStreamingDecoderNeverSplitsCharacters() throws {
        let tokenizer = try Tokenizer(folder: Fixtures.apple)
        for text in ["emoji 😀👍🏽 family 👨‍👩‍👧‍👦", "中文测试", "café"] {
            var stream = StreamingDecoder(tokenizer: tokenizer)
            var out = ""
            for id in tokenizer.encode(text) {
                let piece = stream.append(id)
                XCTAssertFalse(piece.contains("\u{FFFD}"), "half a character emitted")
                out += piece
            }
            out += stream.finish()
            XCTAssertEqual(out, text)
        }
    }

    func testSpecialTokensSkippedOnRequest() throws {
        let tokenizer = try Tokenizer(folder: Fixtures.apple)
        let ids = tokenizer.encode("<|im_start|>hi<|im_end|>")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "hi")
        XCTAssertEqual(tokenizer.decode(ids), "<|im_start|>hi<|im_end|>")
    }

    func testInvalidUTF8DecodesLossily() throws {
        let tokenizer = try Tokenizer(folder: Fixtures.apple)
        // A lone continuation byte as a token: decoding replaces it, no crash.
        let byteToken = try XCTUnwrap(tokenizer.id(of: String(ByteLevel.byteToScalar[0x80])))
        XCTAssertEqual(tokenizer.decode([byteToken]), "\u{FFFD}")
    }
}
