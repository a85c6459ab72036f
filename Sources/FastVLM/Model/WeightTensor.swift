import Foundation
import Ops

/// A weight tensor as the architecture code sees it: a name, a shape and where its values
/// are - in a memory-mapped checkpoint, in a deterministic generator (synthetic models), or,
/// for the few small tensors computed at load (BatchNorm folded into a conv), in host memory.
/// Values are read only when asked, a range of rows at a time, so no whole-model fp32 copy
/// ever exists on the host. Rows are the first dimension: [out][in] for a linear layer,
/// [out][in/groups * k * k] for a convolution, [vocab][hidden] for an embedding.
public struct WeightTensor: WeightRows, @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    let source: Source

    enum Source {
        case mapped(TensorEntry)
        case host([Float])
        case generated(SyntheticRandom.Stream)
    }

    public var count: Int { shape.reduce(1, *) }
    public var rows: Int { shape.first ?? 1 }
    public var cols: Int { rows == 0 ? 0 : count / rows }

    init(mapped entry: TensorEntry) {
        name = entry.name
        shape = entry.shape
        source = .mapped(entry)
    }

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        source = .host(values)
    }

    init(name: String, shape: [Int], generated stream: SyntheticRandom.Stream) {
        self.name = name
        self.shape = shape
        source = .generated(stream)
    }

    /// The 16-bit or 32-bit type the values are stored in, where they come from a checkpoint.
    public var storedFormat: WeightFormat? {
        guard case .mapped(let e) = source else { return nil }
        switch e.dtype {
        case .bf16: return .bf16
        case .f16: return .f16
        case .f32: return .f32
        case .i64: return nil
        }
    }

    /// Every value as fp32 (the CPU reference, small tensors).
    public func floats() throws -> [Float] {
        if case .host(let values) = source { return values }
        return try allFloats()
    }

    public func readRows(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        let elements = range.lowerBound * cols..<range.upperBound * cols
        switch source {
        case .mapped(let e):
            try e.read(elements: elements, into: out)
        case .host(let values):
            values.withUnsafeBufferPointer { _ = out.initialize(from: $0[elements]) }
        case .generated(let stream):
            stream.fill(elements, into: out)
        }
    }

    public func holdsStoredRows(as format: WeightFormat) -> Bool {
        guard case .mapped(let e) = source else { return false }
        return storedFormat == format && format.rowBytes(cols: cols) == cols * e.elementSize
    }

    public func withStoredRows(_ range: Range<Int>, as format: WeightFormat, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard holdsStoredRows(as: format), case .mapped(let e) = source else { return false }
        try e.withStoredBytes(elements: range.lowerBound * cols..<range.upperBound * cols, body)
        return true
    }

    /// Whether both name the same stored values (a tied LM head is the embedding itself).
    public func isSameTensor(as other: WeightTensor) -> Bool {
        guard shape == other.shape else { return false }
        switch (source, other.source) {
        case (.mapped(let a), .mapped(let b)): return a.file === b.file && a.range == b.range
        case (.generated(let a), .generated(let b)): return a == b
        case (.host(let a), .host(let b)): return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pa.baseAddress == $0.baseAddress } }
        default: return false
        }
    }
}

extension WeightTensor {
    /// The values transformed, held in host memory (small tensors, tests).
    public func map(_ transform: (Float) throws -> Float) throws -> WeightTensor {
        WeightTensor(name: name + "'", shape: shape, values: try floats().map(transform))
    }
}

extension WeightTensor {
    /// Whether both hold the same values, compared a bounded piece of rows at a time.
    public func hasSameValues(as other: WeightTensor) throws -> Bool {
        guard shape == other.shape else { return false }
        if isSameTensor(as: other) { return true }
        let step = max(1, (4 << 20) / max(1, cols))
        var a = [Float](repeating: 0, count: step * cols), b = a
        for first in stride(from: 0, to: rows, by: step) {
            let range = first..<min(rows, first + step)
            let n = range.count * cols
            try a.withUnsafeMutableBufferPointer { try readRows(range, into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
            try b.withUnsafeMutableBufferPointer { try other.readRows(range, into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
            let same = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in memcmp(pa.baseAddress!, pb.baseAddress!, n * 4) == 0 } }
            if !same { return false }
        }
        return true
    }
}
