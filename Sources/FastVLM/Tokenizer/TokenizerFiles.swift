import Foundation

extension Tokenizer {
    /// Loads `tokenizer.json`, or `vocab.json` + `merges.txt` (+ `added_tokens.json`,
    /// `tokenizer_config.json`) from a model folder.
    public convenience init(folder: URL) throws {
        let fm = FileManager.default
        let json = folder.appending(path: "tokenizer.json")
        if fm.fileExists(atPath: json.path) {
            try self.init(tokenizerJSON: json)
            return
        }
        let vocabURL = folder.appending(path: "vocab.json"), mergesURL = folder.appending(path: "merges.txt")
        guard fm.fileExists(atPath: vocabURL.path), fm.fileExists(atPath: mergesURL.path) else {
            throw CheckpointError("\(folder.path): no tokenizer (tokenizer.json, or vocab.json + merges.txt)")
        }
        guard let vocabBytes = try? Data(contentsOf: vocabURL) else { throw CheckpointError("vocab.json: cannot read") }
        let vocab = try VocabularyJSON.parse([UInt8](vocabBytes))
        guard let mergesData = try? Data(contentsOf: mergesURL), let mergesText = String(validating: [UInt8](mergesData), as: UTF8.self) else {
            throw CheckpointError("merges.txt: not UTF-8 text")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergesData.count / 10)
        // Split on bytes, not Characters (grapheme breaking costs a tenth of a second here). Lines
        // may end in \r\n; byte-level tokens never contain a raw \r or space.
        for (n, line) in mergesText.utf8.split(omittingEmptySubsequences: true, whereSeparator: { $0 == 0x0A || $0 == 0x0D }).enumerated() {
            if n == 0 && line.starts(with: "#version".utf8) { continue }
            let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
            guard parts.count == 2, let left = String(parts[0]), let right = String(parts[1]) else {
                throw CheckpointError("merges.txt: line \(n + 1) is not two tokens separated by a space")
            }
            merges.append((left, right))
        }
        var added: [String: AddedToken] = [:]
        let addedURL = folder.appending(path: "added_tokens.json")
        if let data = try? Data(contentsOf: addedURL) {
            guard let map = (try? JSONSerialization.jsonObject(with: data)) as? [String: NSNumber] else {
                throw CheckpointError("added_tokens.json: not a JSON object of token -> id")
            }
            for (content, id) in map { added[content] = AddedToken(content: content, id: try Self.id(id, "added_tokens.json", content), special: true) }
        }
        let configURL = folder.appending(path: "tokenizer_config.json")
        if let data = try? Data(contentsOf: configURL), let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let decoder = config["added_tokens_decoder"] as? [String: [String: Any]] {
            for (idText, entry) in decoder {
                guard let number = Int(idText), let content = entry["content"] as? String else { continue }
                let id = try Self.id(number as NSNumber, "tokenizer_config.json", content)
                added[content] = AddedToken(content: content, id: id, special: (entry["special"] as? Bool) ?? true)
            }
        }
        self.init(vocab: vocab, merges: merges, added: Array(added.values))
    }

    /// A token id from a file: an integer in 0...Int32.max (a forged id must not overflow
    /// `vocabularySize` or size an allocation).
    static func id(_ number: NSNumber, _ file: String, _ token: String) throws -> Int {
        let value = number.doubleValue
        guard value >= 0, value <= Double(ConfigLimits.tokenID.upperBound), value == value.rounded() else {
            throw CheckpointError("\(file): the id of \(token.debugDescription) is \(number), expected an integer in 0...\(ConfigLimits.tokenID.upperBound)")
        }
        return Int(value)
    }

    static func ids(_ vocab: [String: NSNumber], _ file: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        out.reserveCapacity(vocab.count)
        for (token, number) in vocab { out[token] = try id(number, file, token) }
        return out
    }

    convenience init(tokenizerJSON url: URL) throws {
        let name = url.lastPathComponent
        guard let root = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] else {
            throw CheckpointError("\(name): not valid JSON")
        }
        guard let model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: NSNumber] else {
            throw CheckpointError("\(name): no model.vocab")
        }
        if let type = model["type"] as? String, type != "BPE" { throw CheckpointError("\(name): model.type is \(type), expected BPE") }
        var merges: [(String, String)] = []
        for (i, m) in ((model["merges"] as? [Any]) ?? []).enumerated() {
            if let s = m as? String {
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw CheckpointError("\(name): merge \(i) is not two tokens") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = m as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw CheckpointError("\(name): merge \(i) has an unknown form")
            }
        }
        let added = try ((root["added_tokens"] as? [[String: Any]]) ?? []).compactMap { entry -> AddedToken? in
            guard let number = entry["id"] as? NSNumber, let content = entry["content"] as? String else { return nil }
            return AddedToken(content: content, id: try Self.id(number, name, content), special: (entry["special"] as? Bool) ?? false)
        }
        self.init(vocab: try Self.ids(vocab, name), merges: merges, added: added)
    }
}
