/// Qwen2's pre-tokenizer, the regex
///   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
/// matched by hand over Unicode scalars (alternatives tried in order, as the regex engine does).
enum PreTokenizer {
    static func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var pieces: [String] = []
        var i = 0
        while i < s.count {
            let n = match(s, i)
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s[i..<i + n])
            pieces.append(String(view))
            i += n
        }
        return pieces
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
    static func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }

    /// Length of the match at i (always >= 1).
    static func match(_ s: [Unicode.Scalar], _ i: Int) -> Int {
        let c = s[i]
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if c == "'", i + 1 < s.count {
            let a = Character(s[i + 1]).lowercased()
            if a == "s" || a == "t" || a == "m" || a == "d" { return 2 }
            if i + 2 < s.count, ["re", "ve", "ll"].contains(a + Character(s[i + 2]).lowercased()) { return 3 }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if isLetter(c) { return 1 + run(s, i + 1, isLetter) }
        if !isNewline(c), !isNumber(c), i + 1 < s.count, isLetter(s[i + 1]) { return 2 + run(s, i + 2, isLetter) }
        // \p{N}
        if isNumber(c) { return 1 }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        let symbol: (Unicode.Scalar) -> Bool = { !isSpace($0) && !isLetter($0) && !isNumber($0) }
        let start = c == " " ? i + 1 : i
        if start < s.count, symbol(s[start]) {
            var j = start + run(s, start, symbol)
            j += run(s, j, isNewline)
            return j - i
        }
        // Whitespace alternatives.
        let spaces = run(s, i, isSpace)
        if spaces > 0 {
            // \s*[\r\n]+ : up to the last newline of the run.
            if let last = (i..<i + spaces).last(where: { isNewline(s[$0]) }) { return last + 1 - i }
            // \s+(?!\S) : the run, minus one if a non-space follows it.
            if i + spaces == s.count { return spaces }
            if spaces > 1 { return spaces - 1 }
            // \s+
            return spaces
        }
        return 1   // unreachable for well-formed text; guarantees progress
    }

    static func run(_ s: [Unicode.Scalar], _ from: Int, _ pred: (Unicode.Scalar) -> Bool) -> Int {
        var j = from
        while j < s.count, pred(s[j]) { j += 1 }
        return j - from
    }
}
