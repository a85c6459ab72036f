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
        guard let vocab = (try? JSONSerialization.jsonObject(with: Data(contentsOf: vocabURL))) as? [String: NSNumber] else {
            throw CheckpointError("vocab.json: not a JSON object of token -> id")
        }
        guard let mergesText = try? String(contentsOf: mergesURL, encoding: .utf8) else { throw CheckpointError("merges.txt: not UTF-8 text") }
        var merges: [(String, String)] = []
        // Lines may end in \r\n (a single Character in Swift); byte-level tokens never contain raw \r.
        for (n, line) in mergesText.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).enumerated() {
            if n == 0 && line.hasPrefix("#version") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw CheckpointError("merges.txt: line \(n + 1) is not two tokens separated by a space") }
            merges.append((String(parts[0]), String(parts[1])))
        }
        var added: [String: AddedToken] = [:]
        let addedURL = folder.appending(path: "added_tokens.json")
        if let data = try? Data(contentsOf: addedURL) {
            guard let map = (try? JSONSerialization.jsonObject(with: data)) as? [String: NSNumber] else {
                throw CheckpointError("added_tokens.json: not a JSON object of token -> id")
            }
            for (content, id) in map { added[content] = AddedToken(content: content, id: id.intValue, special: true) }
        }
        let configURL = folder.appending(path: "tokenizer_config.json")
        if let data = try? Data(contentsOf: configURL), let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let decoder = config["added_tokens_decoder"] as? [String: [String: Any]] {
            for (idText, entry) in decoder {
                guard let id = Int(idText), let content = entry["content"] as? String else { continue }
                added[content] = AddedToken(content: content, id: id, special: (entry["special"] as? Bool) ?? true)
            }
        }
        self.init(vocab: vocab.mapValues(\.intValue), merges: merges, added: Array(added.values))
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
        let added = ((root["added_tokens"] as? [[String: Any]]) ?? []).compactMap { entry -> AddedToken? in
            guard let id = (entry["id"] as? NSNumber)?.intValue, let content = entry["content"] as? String else { return nil }
            return AddedToken(content: content, id: id, special: (entry["special"] as? Bool) ?? false)
        }
        self.init(vocab: vocab.mapValues(\.intValue), merges: merges, added: added)
    }
}
