extension Reference {
    /// Rows of an embedding table [V][H] gathered by token id -> [ids.count][H].
    public static func embedding(ids: [Int], table: [Float], hidden h: Int) -> [Float] {
        precondition(h > 0 && table.count % h == 0, "embedding: table of \(table.count) values has no rows of \(h)")
        let vocab = table.count / h
        var out = [Float]()
        out.reserveCapacity(ids.count * h)
        for id in ids {
            precondition(id >= 0 && id < vocab, "embedding: token id \(id) outside the vocabulary of \(vocab)")
            out.append(contentsOf: table[id * h..<(id + 1) * h])
        }
        return out
    }
}
