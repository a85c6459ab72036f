/// GPT-2's byte-level alphabet: every byte maps to a printable character, so BPE works on
/// text without ever seeing raw control bytes or spaces.
enum ByteLevel {
    static let byteToScalar: [Unicode.Scalar] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var scalars = printable.map { Unicode.Scalar(UInt32($0))! }
        var extra: UInt32 = 256
        var table = [Unicode.Scalar?](repeating: nil, count: 256)
        for (b, s) in zip(printable, scalars) { table[b] = s }
        for b in 0..<256 where table[b] == nil {
            table[b] = Unicode.Scalar(extra)!
            extra += 1
        }
        printable.removeAll()
        scalars.removeAll()
        return table.map { $0! }
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Bytes of a byte-level token string; characters outside the alphabet are dropped.
    static func decode(_ token: String) -> [UInt8] {
        token.unicodeScalars.compactMap { scalarToByte[$0.value] }
    }
}
