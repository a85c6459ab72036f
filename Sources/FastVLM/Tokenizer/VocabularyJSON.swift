/// A reader for vocab.json, a flat JSON object of token -> id: about ten times faster than
/// JSONSerialization on Qwen2's 151k entries, which dominates a model's load otherwise. Strings
/// take every JSON escape (\uXXXX with surrogate pairs included); anything else in the file is
/// an error naming the byte offset.
enum VocabularyJSON {
    static func parse(_ bytes: [UInt8], file: String = "vocab.json") throws -> [String: Int] {
        var reader = Reader(bytes: bytes, file: file)
        var out: [String: Int] = [:]
        out.reserveCapacity(bytes.count / 12)
        try reader.expect(UInt8(ascii: "{"))
        if try reader.peek() == UInt8(ascii: "}") {
            reader.i += 1
        } else {
            while true {
                let key = try reader.string()
                try reader.expect(UInt8(ascii: ":"))
                out[key] = try reader.id(of: key)
                let next = try reader.next()
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw reader.error("expected , or }") }
            }
        }
        reader.skipSpace()
        guard reader.i == bytes.count else { throw reader.error("text after the object") }
        return out
    }

    struct Reader {
        let bytes: [UInt8]
        let file: String
        var i = 0

        func error(_ what: String) -> CheckpointError { CheckpointError("\(file): \(what) at byte \(i)") }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func peek() throws -> UInt8 {
            skipSpace()
            guard i < bytes.count else { throw error("unexpected end") }
            return bytes[i]
        }

        mutating func next() throws -> UInt8 {
            let b = try peek()
            i += 1
            return b
        }

        mutating func expect(_ b: UInt8) throws {
            guard try next() == b else { throw error("expected \(Character(Unicode.Scalar(b)))") }
        }

        /// A token id: an integer in `ConfigLimits.tokenID` (a forged id must not overflow the
        /// vocabulary size or size an allocation).
        mutating func id(of token: String) throws -> Int {
            _ = try peek()
            let start = i
            while i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: ".")
                    || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") || (0x30...0x39).contains(bytes[i]) { i += 1 }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            guard !text.isEmpty else { throw error("expected an id") }
            guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int(text), ConfigLimits.tokenID.contains(value) else {
                throw CheckpointError("\(file): the id of \(token.debugDescription) is \(text), expected an integer in \(ConfigLimits.tokenID.lowerBound)...\(ConfigLimits.tokenID.upperBound)")
            }
            return value
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count else { throw error("a cut \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("a bad \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw error("an unterminated string") }
                let c = bytes[i]
                i += 1
                switch c {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else { throw error("a string that is not UTF-8") }
                    return s
                case UInt8(ascii: "\\"):
                    guard i < bytes.count else { throw error("a cut escape") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                                throw error("a lone high surrogate")
                            }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("a bad surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("a lone low surrogate") }
                        out.append(contentsOf: String(Character(u)).utf8)
                    default: throw error("an unknown escape")
                    }
                case 0x00..<0x20: throw error("a control character in a string")
                default: out.append(c)
                }
            }
        }
    }
}
