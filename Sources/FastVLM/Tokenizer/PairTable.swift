/// An open-addressing hash map from a symbol pair (two 32-bit ids packed in 64 bits) to its
/// merge. BPE looks a pair up about four times per input byte; Swift's Dictionary hashes with
/// SipHash, which made those lookups most of the tokenizer's time on long words.
struct PairTable {
    private static let free = UInt64.max    // no pair of two non-negative ids packs to this
    private var keys: [UInt64]
    private var values: [BPEMerges.Merge]
    private let shift: UInt64

    init(capacity: Int) {
        var bits = 4
        while 1 << bits < 2 * capacity { bits += 1 }     // at most half full
        keys = [UInt64](repeating: Self.free, count: 1 << bits)
        values = [BPEMerges.Merge](repeating: BPEMerges.Merge(rank: 0, result: 0), count: 1 << bits)
        shift = UInt64(64 - bits)
    }

    /// Fibonacci hashing: the top bits of key * 2^64 / golden ratio.
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    subscript(key: UInt64) -> BPEMerges.Merge? {
        var slot = home(key)
        while true {
            let k = keys[slot]
            if k == key { return values[slot] }
            if k == Self.free { return nil }
            slot = (slot + 1) & (keys.count - 1)
        }
    }

    /// Adds `merge` for `key` unless the key is already there (the first merge of a pair wins).
    mutating func insertIfAbsent(_ key: UInt64, _ merge: BPEMerges.Merge) {
        var slot = home(key)
        while keys[slot] != Self.free {
            if keys[slot] == key { return }
            slot = (slot + 1) & (keys.count - 1)
        }
        keys[slot] = key
        values[slot] = merge
    }
}
