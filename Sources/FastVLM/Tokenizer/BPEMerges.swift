/// A byte-level BPE merge table with its symbols interned as integers, and the merge loop for
/// one pre-token in O(n log n): a linked list over the pre-token's symbols and a min-heap of
/// candidate pairs ordered by (merge rank, position), the order Hugging Face `tokenizers` uses.
/// (Rescanning every pair after each merge, the textbook loop, is quadratic: a long word
/// without spaces took seconds.)
struct BPEMerges {
    struct Merge {
        let rank: UInt32
        let result: Int32
    }

    /// Symbol of each byte's byte-level character.
    private let byteSymbols: [Int32]
    /// (left symbol, right symbol) -> the first merge of that pair in merges.txt.
    private let merges: PairTable
    /// Vocabulary id of each symbol; -1 where the vocabulary lacks it (such a symbol is dropped).
    private let tokenIDs: [Int]

    init(vocab: [String: Int], merges list: [(String, String)]) {
        var symbols: [String: Int32] = [:]
        var names: [String] = []
        func intern(_ s: String) -> Int32 {
            if let id = symbols[s] { return id }
            let id = Int32(names.count)
            symbols[s] = id
            names.append(s)
            return id
        }
        byteSymbols = ByteLevel.byteToScalar.map { intern(String($0)) }
        var table = PairTable(capacity: list.count)
        for (rank, (left, right)) in list.enumerated() {
            let key = Self.pair(intern(left), intern(right))
            if table[key] == nil { table.insertIfAbsent(key, Merge(rank: UInt32(rank), result: intern(left + right))) }
        }
        merges = table
        tokenIDs = names.map { vocab[$0] ?? -1 }
    }

    private static func pair(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Vocabulary ids of one pre-token's UTF-8 bytes after every applicable merge.
    func apply(_ bytes: [UInt8]) -> [Int] {
        guard !bytes.isEmpty else { return [] }
        // Positions are 32-bit (heap entries pack (rank, position) into one integer).
        precondition(bytes.count < Int(Int32.max), "a pre-token of 2 GiB or more")
        var word = Word(symbols: bytes.map { byteSymbols[Int($0)] })
        var candidates: [UInt64] = []
        for position in 0..<bytes.count - 1 {
            if let entry = candidate(word, at: position) { candidates.append(entry) }
        }
        var heap = MinHeap(candidates)
        while let top = heap.pop() {
            let rank = UInt32(top >> 32), position = Int(top & 0xFFFF_FFFF)
            // Entries go stale when a neighbour merged first: only the pair there now counts.
            guard word.symbol[position] >= 0, word.next[position] >= 0,
                  let m = merges[Self.pair(word.symbol[position], word.symbol[Int(word.next[position])])], m.rank == rank else { continue }
            word.merge(at: position, into: m.result)
            if word.previous[position] >= 0, let entry = candidate(word, at: Int(word.previous[position])) { heap.push(entry) }
            if let entry = candidate(word, at: position) { heap.push(entry) }
        }
        var ids: [Int] = []
        var position = 0
        while position >= 0 {
            let id = tokenIDs[Int(word.symbol[position])]
            if id >= 0 { ids.append(id) }
            position = Int(word.next[position])
        }
        return ids
    }

    /// The heap entry for the pair that starts at `position`, if it has a merge.
    private func candidate(_ word: Word, at position: Int) -> UInt64? {
        let right = Int(word.next[position])
        guard right >= 0, let m = merges[Self.pair(word.symbol[position], word.symbol[right])] else { return nil }
        return UInt64(m.rank) << 32 | UInt64(position)
    }

    /// A pre-token's symbols as a doubly linked list over its byte positions.
    private struct Word {
        var symbol: [Int32]      // -1: merged into its left neighbour
        var next: [Int32]       // -1 at the end
        var previous: [Int32]   // -1 at the start

        init(symbols: [Int32]) {
            symbol = symbols
            next = Array(1...Int32(symbols.count))
            next[symbols.count - 1] = -1
            previous = Array(-1..<Int32(symbols.count) - 1)
        }

        mutating func merge(at position: Int, into result: Int32) {
            let right = Int(next[position])
            symbol[position] = result
            symbol[right] = -1
            next[position] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(position) }
        }
    }
}

/// A 4-ary min-heap of packed (rank, position) keys (shallower than a binary heap, and each
/// node's children share a cache line).
struct MinHeap {
    private var items: [UInt64]

    /// Heapifies `items` in O(n).
    init(_ items: [UInt64] = []) {
        self.items = items
        var parent = (items.count - 2) / 4
        while parent >= 0, items.count > 1 {
            siftDown(parent)
            parent -= 1
        }
    }

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ value: UInt64) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 4
            guard value < items[parent] else { break }
            items[child] = items[parent]
            child = parent
        }
        items[child] = value
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        siftDown(0)
        return top
    }

    private mutating func siftDown(_ start: Int) {
        let value = items[start], count = items.count
        var parent = start
        while true {
            let first = 4 * parent + 1
            if first >= count { break }
            var smallest = first
            for child in first + 1..<min(first + 4, count) where items[child] < items[smallest] { smallest = child }
            guard items[smallest] < value else { break }
            items[parent] = items[smallest]
            parent = smallest
        }
        items[parent] = value
    }
}
