import XCTest
import Ops
@testable import FastVLM

/// The heap-ordered merge loop against the textbook one (lowest-ranked pair first, every
/// occurrence of it merged left to right, repeat), on words long enough to chain many merges.
final class BPEMergesTests: XCTestCase {
    /// The textbook loop, quadratic in the word's length: the reference.
    static func textbook(_ bytes: [UInt8], vocab: [String: Int], merges: [(String, String)]) -> [Int] {
        var ranks: [String: Int] = [:]
        for (i, m) in merges.enumerated() where ranks[m.0 + " " + m.1] == nil { ranks[m.0 + " " + m.1] = i }
        var symbols = ByteLevel.encode(bytes).unicodeScalars.map { String($0) }
        while symbols.count > 1 {
            var best = (rank: Int.max, index: -1)
            for i in 0..<symbols.count - 1 {
                if let r = ranks[symbols[i] + " " + symbols[i + 1]], r < best.rank { best = (r, i) }
            }
            guard best.index >= 0 else { break }
            let (left, right) = (symbols[best.index], symbols[best.index + 1])
            var merged: [String] = []
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count, symbols[i] == left, symbols[i + 1] == right {
                    merged.append(left + right)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        return symbols.compactMap { vocab[$0] }
    }

    func checkAgainstTextbook(vocab: [String: Int], merges: [(String, String)], alphabet: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let table = BPEMerges(vocab: vocab, merges: merges)
        var rng = SplitMix64(seed: 7)
        for length in [1, 2, 3, 5, 17, 64, 300] {
            for _ in 0..<20 {
                let word = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                XCTAssertEqual(table.apply(word), Self.textbook(word, vocab: vocab, merges: merges),
                               "word \(String(decoding: word, as: UTF8.self).debugDescription)", file: file, line: line)
            }
        }
    }

    func testRepeatedLettersMergeLeftToRight() {
        // "aaaaa" with a+a and aa+aa: the textbook gives [aaaa, a].
        let vocab = ["a": 0, "aa": 1, "aaaa": 2]
        let table = BPEMerges(vocab: vocab, merges: [("a", "a"), ("aa", "aa")])
        XCTAssertEqual(table.apply(Array("aaaaa".utf8)), [2, 0])
        XCTAssertEqual(table.apply(Array("aaa".utf8)), [1, 0])
        XCTAssertEqual(table.apply([]), [])
    }

    func testSymbolsMissingFromTheVocabularyAreDropped() {
        let table = BPEMerges(vocab: ["a": 0, "ab": 1], merges: [("a", "b"), ("ab", "c")])
        // "abc" merges to "abc", which the vocabulary lacks.
        XCTAssertEqual(table.apply(Array("abc".utf8)), [])
        XCTAssertEqual(table.apply(Array("abz".utf8)), [1])
    }

    func testTinyVocabularyMatchesTextbookLoop() throws {
        let (vocab, merges) = try Self.files(Fixtures.apple)
        // The letters the tiny merges use most, so words chain long merges.
        checkAgainstTextbook(vocab: vocab, merges: merges, alphabet: Array("the quick brown fox, 12".utf8))
    }

    func testRealQwen2VocabularyMatchesTextbookLoop() throws {
        let folder = try Fixtures.qwen2Tokenizer()
        let (vocab, merges) = try Self.files(folder)
        checkAgainstTextbook(vocab: vocab, merges: merges, alphabet: Array("etaoinshrdlu".utf8) + Array("é中".utf8))
    }

    /// vocab.json and merges.txt, read as plainly as possible (the reference must not share the tokenizer's loader).
    static func files(_ folder: URL) throws -> ([String: Int], [(String, String)]) {
        let vocab = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: folder.appending(path: "vocab.json")))
        let lines = try String(contentsOf: folder.appending(path: "merges.txt"), encoding: .utf8).split(separator: "\n")
        let merges = lines.filter { !$0.hasPrefix("#version") }.map { line -> (String, String) in
            let parts = line.split(separator: " ")
            return (String(parts[0]), String(parts[1]))
        }
        return (vocab, merges)
    }
}

/// The length-only lower bound lets a caller refuse oversized text before tokenizing it.
final class MinimumTokenCountTests: XCTestCase {
    func testBoundNeverExceedsTheRealCount() throws {
        let tokenizer = try Tokenizer(folder: Fixtures.apple)
        for text in ["", "a", "hello world", String(repeating: "the ", count: 500), "中文测试 😀 e\u{301}", "<|im_start|>x<|im_end|>"] {
            XCTAssertLessThanOrEqual(tokenizer.minimumTokenCount(text), tokenizer.encode(text).count, text.debugDescription)
        }
    }

    func testAMegabyteIsKnownTooLongForASmallContext() throws {
        let tokenizer = try Tokenizer(folder: Fixtures.apple)
        XCTAssertGreaterThan(tokenizer.minimumTokenCount(String(repeating: "x", count: 1 << 20)), 4096)
    }
}
