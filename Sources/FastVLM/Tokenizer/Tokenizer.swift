import Foundation

/// Qwen2's byte-level BPE tokenizer (spec section 7): added tokens split out first, NFC,
/// the Qwen2 pre-tokenizer, GPT-2 byte mapping, BPE by merge rank. No BOS is added.
public final class Tokenizer {
    public struct AddedToken: Sendable {
        public let content: String
        public let id: Int
        public let special: Bool
    }

    private let vocab: [String: Int]
    private let tokens: [Int: String]
    private let merges: BPEMerges
    public let added: [AddedToken]
    private let addedByContent: [String: AddedToken]
    private let addedByID: [Int: AddedToken]
    /// Added tokens by their first UTF-8 byte, longest first.
    private let addedByFirstByte: [UInt8: [(bytes: [UInt8], token: AddedToken)]]
    private var cache: [String: [Int]] = [:]
    /// Bytes of the longest token (vocabulary or added).
    private let longestTokenBytes: Int
    /// Pieces up to this many bytes are cached (a long piece is rare and would pin its text).
    static let cachedPieceBytes = 256

    /// Ids the tokenizer can produce (its largest id + 1).
    public var vocabularySize: Int { max((tokens.keys.max() ?? -1), (addedByID.keys.max() ?? -1)) + 1 }

    public init(vocab: [String: Int], merges: [(String, String)], added: [AddedToken]) {
        self.vocab = vocab
        var t: [Int: String] = [:]
        for (k, v) in vocab { t[v] = k }
        tokens = t
        self.merges = BPEMerges(vocab: vocab, merges: merges)
        // Longest first, so "<|im_end|>" wins over any shorter added token it contains.
        self.added = added.sorted { $0.content.count > $1.content.count }
        addedByContent = Dictionary(added.map { ($0.content, $0) }, uniquingKeysWith: { a, _ in a })
        addedByID = Dictionary(added.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var byFirst: [UInt8: [(bytes: [UInt8], token: AddedToken)]] = [:]
        for token in added where !token.content.isEmpty {
            let bytes = Array(token.content.utf8)
            byFirst[bytes[0], default: []].append((bytes, token))
        }
        addedByFirstByte = byFirst.mapValues { $0.sorted { $0.bytes.count > $1.bytes.count } }
        longestTokenBytes = max(1, vocab.keys.map { ByteLevel.decode($0).count }.max() ?? 1, added.map(\.content.utf8.count).max() ?? 1)
    }

    /// A lower bound on `encode(text).count` from the text's length alone (no tokenizing), so a
    /// caller can refuse text that cannot fit its context before paying for the tokenizer:
    /// every id covers at most the longest token's bytes, and NFC at most triples or thirds a
    /// text's UTF-8 length. (Holds for a byte-level vocabulary, which has every single byte.)
    public func minimumTokenCount(_ text: String) -> Int {
        let bytes = text.utf8.count
        let perToken = 3 * longestTokenBytes
        return (bytes + perToken - 1) / perToken
    }

    public func id(of token: String) -> Int? { addedByContent[token]?.id ?? vocab[token] }

    // MARK: encode

    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        for segment in splitAdded(text) {
            switch segment {
            case .added(let token): ids.append(token.id)
            case .text(let t):
                for piece in PreTokenizer.split(t.precomposedStringWithCanonicalMapping) { ids += bpe(piece) }
            }
        }
        return ids
    }

    enum Segment { case text(String), added(AddedToken) }

    /// Splits on exact (byte for byte) occurrences of added tokens, leftmost first and the
    /// longest where several start at the same place; they are not normalised. One pass over
    /// the text, trying only the added tokens that start with the byte at hand.
    func splitAdded(_ text: String) -> [Segment] {
        guard !addedByFirstByte.isEmpty else { return [.text(text)] }
        let bytes = Array(text.utf8)
        var out: [Segment] = []
        var textStart = 0, i = 0
        while i < bytes.count {
            guard let candidates = addedByFirstByte[bytes[i]],
                  let hit = candidates.first(where: { Self.bytes(bytes, at: i, equal: $0.bytes) }) else {
                i += 1
                continue
            }
            if i > textStart { out.append(.text(String(decoding: bytes[textStart..<i], as: UTF8.self))) }
            out.append(.added(hit.token))
            i += hit.bytes.count
            textStart = i
        }
        if textStart < bytes.count { out.append(.text(String(decoding: bytes[textStart...], as: UTF8.self))) }
        return out
    }

    private static func bytes(_ text: [UInt8], at start: Int, equal token: [UInt8]) -> Bool {
        guard text.count - start >= token.count else { return false }
        for k in 0..<token.count where text[start + k] != token[k] { return false }
        return true
    }

    func bpe(_ piece: String) -> [Int] {
        if let hit = cache[piece] { return hit }
        let bytes = Array(piece.utf8)
        let ids = merges.apply(bytes)
        if bytes.count <= Self.cachedPieceBytes, cache.count < 100_000 { cache[piece] = ids }
        return ids
    }

    // MARK: decode

    /// Bytes of one id (added tokens as their UTF-8 text); nil for unknown ids.
    public func bytes(of id: Int) -> [UInt8]? {
        if let a = addedByID[id] { return Array(a.content.utf8) }
        return tokens[id].map(ByteLevel.decode)
    }

    public func isSpecial(_ id: Int) -> Bool { addedByID[id]?.special ?? false }

    /// Text of `ids`, invalid UTF-8 replaced with U+FFFD as transformers does.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids where !(skipSpecialTokens && isSpecial(id)) { bytes += self.bytes(of: id) ?? [] }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Turns generated ids into text as they arrive, never emitting half a UTF-8 character.
public struct StreamingDecoder {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Text completed by this id (possibly empty).
    public mutating func append(_ id: Int) -> String {
        if skipSpecialTokens && tokenizer.isSpecial(id) { return "" }
        pending += tokenizer.bytes(of: id) ?? []
        let complete = Self.completePrefix(pending)
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// What is left at the end (an incomplete sequence becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a multi-byte character.
    static func completePrefix(_ b: [UInt8]) -> Int {
        var i = b.count
        var back = 0
        while i > 0, back < 4, b[i - 1] & 0xC0 == 0x80 { i -= 1; back += 1 }
        guard i > 0 else { return b.count > 3 ? b.count : 0 }
        let lead = b[i - 1]
        let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        // The last character is complete (or invalid, which decodes as U+FFFD now).
        if need == 1 || back + 1 >= need || lead & 0xC0 == 0x80 { return b.count }
        return i - 1
    }
}
