/// A [rows][cols] weight matrix that can be read a range of rows at a time, so a weight is
/// uploaded in bounded chunks and never needs a whole fp32 copy on the host.
public protocol WeightRows {
    var rows: Int { get }
    var cols: Int { get }
    /// Writes rows `range` as fp32 into `out` (`range.count * cols` values).
    func readRows(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws
    /// Whether the rows are stored as `format`'s bytes already (a bf16 checkpoint uploaded as
    /// bf16), so `withStoredRows` can hand them over without conversion.
    func holdsStoredRows(as format: WeightFormat) -> Bool
    /// Calls `body` with the stored bytes of rows `range`, in one or more consecutive pieces in
    /// order, when `holdsStoredRows(as: format)`; returns false, without calling `body`, when not.
    func withStoredRows(_ range: Range<Int>, as format: WeightFormat, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool
}

extension WeightRows {
    public func holdsStoredRows(as format: WeightFormat) -> Bool { false }
    public func withStoredRows(_ range: Range<Int>, as format: WeightFormat, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool { false }

    /// Rows `range` as fp32.
    public func rows(_ range: Range<Int>) throws -> [Float] {
        try [Float](unsafeUninitializedCapacity: range.count * cols) { out, n in
            try readRows(range, into: out)
            n = range.count * cols
        }
    }

    /// Every value as fp32 (small weights, tests and the CPU reference).
    public func allFloats() throws -> [Float] { try rows(0..<rows) }
}

/// Host fp32 values [rows][cols].
public struct FloatRows: WeightRows {
    public let values: [Float]
    public let rows: Int
    public let cols: Int

    public init(_ values: [Float], rows: Int, cols: Int) throws {
        try require(rows > 0 && cols > 0 && values.count == rows * cols, "weight: \(values.count) values for \(rows)x\(cols)")
        self.values = values
        self.rows = rows
        self.cols = cols
    }

    public func readRows(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        values.withUnsafeBufferPointer { src in
            _ = out.initialize(from: src[range.lowerBound * cols..<range.upperBound * cols])
        }
    }
}

/// Several weights over the same input stacked row-wise ([q; k; v], [gate; up]).
public struct StackedRows: WeightRows {
    public let parts: [any WeightRows]
    public let rows: Int
    public let cols: Int

    public init(_ parts: [any WeightRows]) throws {
        let cols = parts.first?.cols ?? 0
        try require(!parts.isEmpty && parts.allSatisfy { $0.cols == cols }, "stacked weight: parts of different widths \(parts.map(\.cols))")
        self.parts = parts
        self.cols = cols
        rows = parts.reduce(0) { $0 + $1.rows }
    }

    /// (part, rows of that part) covering `range`.
    private func pieces(_ range: Range<Int>) -> [(any WeightRows, Range<Int>)] {
        var out: [(any WeightRows, Range<Int>)] = []
        var first = 0
        for p in parts {
            let lo = max(range.lowerBound, first), hi = min(range.upperBound, first + p.rows)
            if lo < hi { out.append((p, lo - first..<hi - first)) }
            first += p.rows
        }
        return out
    }

    public func readRows(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        var done = 0
        for (p, r) in pieces(range) {
            try p.readRows(r, into: UnsafeMutableBufferPointer(rebasing: out[done..<done + r.count * cols]))
            done += r.count * cols
        }
    }

    public func holdsStoredRows(as format: WeightFormat) -> Bool { parts.allSatisfy { $0.holdsStoredRows(as: format) } }

    public func withStoredRows(_ range: Range<Int>, as format: WeightFormat, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard holdsStoredRows(as: format) else { return false }
        for (p, r) in pieces(range) {
            guard try p.withStoredRows(r, as: format, body) else { throw OpError("stacked weight: a part stopped holding its stored rows") }
        }
        return true
    }
}
