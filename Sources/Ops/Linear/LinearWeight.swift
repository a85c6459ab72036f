import Dispatch
import Foundation
import VulkanCore

/// How activations are stored in device memory (arithmetic is always fp32).
public enum StorageType: String, Sendable, CaseIterable {
    case f16, f32
    public var size: Int { self == .f16 ? 2 : 4 }
}

/// A [rows][cols] weight (PyTorch Linear layout: rows = out features N, cols = in features K)
/// resident on the device in one `WeightFormat`, `rowBytes` a row. A weight can also be a row
/// range of a larger one (`rows(_:)`), sharing its memory: e.g. q, k and v as parts of one
/// stacked [q; k; v] weight that a single GEMM can also run.
public final class LinearWeight {
    public let buffer: DeviceBuffer
    /// Where row 0 starts in `buffer` (non-zero for a row range of a larger weight).
    public let byteOffset: Int
    public let rows: Int
    public let cols: Int
    public let format: WeightFormat
    /// The offset alignment a binding needs on this device.
    let bindingAlignment: Int

    public var rowBytes: Int { format.rowBytes(cols: cols) }
    public var byteCount: Int { rows * rowBytes }

    /// Host memory a load uses at most for one piece of a weight (plus its fp32 rows).
    public static let pieceBytes = 8 << 20

    /// Device bytes a [rows][cols] weight takes in `format` (memory planning).
    public static func deviceBytes(rows: Int, cols: Int, format: WeightFormat) -> Int {
        (rows * format.rowBytes(cols: cols) + 3) / 4 * 4
    }

    /// Uploads `source` in `format`, a bounded piece of rows at a time; rows are converted
    /// (and quantized) in parallel, or copied as they are when the source already holds
    /// `format`'s bytes.
    public init(device: Device, source: some WeightRows, format: WeightFormat) throws {
        let (rows, cols) = (source.rows, source.cols)
        try require(rows > 0 && format.supports(cols: cols),
                    "weight: \(rows)x\(cols) cannot be stored as \(format)\(format.isQuantized ? " (rows must be a multiple of \(format.blockSize) values)" : "")")
        self.rows = rows
        self.cols = cols
        self.format = format
        byteOffset = 0
        bindingAlignment = max(4, device.capabilities.minStorageBufferOffsetAlignment)
        buffer = try device.allocate(bytes: Self.deviceBytes(rows: rows, cols: cols, format: format))
        let rowBytes = format.rowBytes(cols: cols)
        let rowsPerPiece = max(1, Self.pieceBytes / max(rowBytes, cols * 4))
        let pieces = stride(from: 0, to: rows, by: rowsPerPiece).map { $0 * rowBytes..<min(rows, $0 + rowsPerPiece) * rowBytes }
        let threads = ProcessInfo.processInfo.activeProcessorCount
        var scratch: [Float] = []   // fp32 rows of a piece, only when converting
        try device.fill(buffer.view, pieces: pieces) { range, out in
            let first = range.lowerBound / rowBytes, count = range.count / rowBytes
            var written = 0
            let copied = try source.withStoredRows(first..<first + count, as: format) { stored in
                guard written + stored.count <= out.count else { throw OpError("weight: stored rows overrun their piece") }
                // Spread over the cores: the copy is mostly page faults on both sides.
                let destination = out.baseAddress! + written, source = stored.baseAddress!, total = stored.count
                let parts = total >= 1 << 20 ? threads : 1
                DispatchQueue.concurrentPerform(iterations: parts) { t in
                    let lo = total * t / parts, hi = total * (t + 1) / parts
                    (destination + lo).copyMemory(from: source + lo, byteCount: hi - lo)
                }
                written += total
            }
            if copied {
                try require(written == out.count, "weight: stored rows fill \(written) of \(out.count) bytes")
                return
            }
            // Each thread reads (converts) and packs its own rows of the piece.
            let parts = count >= 64 ? threads : 1
            var failure: Error?
            let lock = NSLock()
            if scratch.isEmpty { scratch = [Float](repeating: 0, count: min(rows, rowsPerPiece) * cols) }
            scratch.withUnsafeMutableBufferPointer { values in
                let base = out.baseAddress!
                DispatchQueue.concurrentPerform(iterations: parts) { t in
                    let lo = count * t / parts, hi = count * (t + 1) / parts
                    guard lo < hi else { return }
                    let mine = UnsafeMutableBufferPointer(rebasing: values[lo * cols..<hi * cols])
                    do {
                        try source.readRows(first + lo..<first + hi, into: mine)
                    } catch {
                        lock.lock(); failure = error; lock.unlock()
                        return
                    }
                    for r in lo..<hi {
                        WeightPacking.pack(row: UnsafeBufferPointer(rebasing: values[r * cols..<(r + 1) * cols]), format: format,
                                           into: base + r * rowBytes)
                    }
                }
            }
            if let failure { throw failure }
        }
    }

    /// Convenience: host fp32 values [rows][cols].
    public convenience init(device: Device, values: [Float], rows: Int, cols: Int, format: WeightFormat) throws {
        try self.init(device: device, source: try FloatRows(values, rows: rows, cols: cols), format: format)
    }

    private init(of parent: LinearWeight, firstRow: Int, rows: Int) {
        buffer = parent.buffer
        byteOffset = parent.byteOffset + firstRow * parent.rowBytes
        self.rows = rows
        cols = parent.cols
        format = parent.format
        bindingAlignment = parent.bindingAlignment
    }

    /// Rows `range` as a weight of their own, sharing this one's memory. Throws when the
    /// range does not start at an offset the device can bind (minStorageBufferOffsetAlignment).
    public func rows(_ range: Range<Int>) throws -> LinearWeight {
        try require(range.lowerBound >= 0 && range.upperBound <= rows && !range.isEmpty, "weight: rows \(range) of a \(rows)-row weight")
        let offset = byteOffset + range.lowerBound * rowBytes
        try require(offset % bindingAlignment == 0,
                    "weight: rows from \(range.lowerBound) start at byte \(offset), not a multiple of the binding alignment \(bindingAlignment)")
        return LinearWeight(of: self, firstRow: range.lowerBound, rows: range.count)
    }

    /// Whether `rows(_:)` can start a part at `row`.
    public func canSplit(atRow row: Int) -> Bool { (byteOffset + row * rowBytes) % bindingAlignment == 0 }

    /// Rows [first, first + count) as a view; the byte offset must respect the binding alignment.
    func rowSlice(first: Int, count: Int) -> BufferView {
        let start = byteOffset + first * rowBytes
        let end = min(buffer.size, (byteOffset + (first + count) * rowBytes + 3) / 4 * 4)
        return buffer.view.slice(offset: start, size: end - start)
    }

    /// The stored rows read back and unpacked to fp32 (tests).
    public func download(_ device: Device) throws -> [Float] {
        let bytes = try device.download(rowSlice(first: 0, count: rows), as: UInt8.self, count: rows * rowBytes)
        var out = [Float](repeating: 0, count: rows * cols)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    WeightPacking.unpack(row: raw.baseAddress! + r * rowBytes, cols: cols, format: format,
                                         into: UnsafeMutableBufferPointer(rebasing: dst[r * cols..<(r + 1) * cols]))
                }
            }
        }
        return out
    }
}
