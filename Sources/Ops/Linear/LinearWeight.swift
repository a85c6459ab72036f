import VulkanCore

/// How values are stored in device memory (arithmetic is always fp32).
public enum StorageType: String, Sendable, CaseIterable {
    case f16, f32
    public var size: Int { self == .f16 ? 2 : 4 }
}

/// A [rows][cols] weight (PyTorch Linear layout: rows = out features N, cols = in features K)
/// resident on the device. Sizes are padded to whole 32-bit words for the shaders' loads.
/// A weight can also be a row range of a larger one (`rows(_:)`), sharing its memory: e.g.
/// q, k and v as parts of one stacked [q; k; v] weight that a single GEMM can also run.
public final class LinearWeight {
    public let buffer: DeviceBuffer
    /// Where row 0 starts in `buffer` (non-zero for a row range of a larger weight).
    public let byteOffset: Int
    public let rows: Int
    public let cols: Int
    public let type: StorageType
    /// The offset alignment a binding needs on this device.
    let bindingAlignment: Int

    public var byteCount: Int { rows * cols * type.size }

    public init(device: Device, values: [Float], rows: Int, cols: Int, type: StorageType) throws {
        try require(values.count == rows * cols, "weight: \(values.count) values for \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        self.type = type
        byteOffset = 0
        bindingAlignment = max(4, device.capabilities.minStorageBufferOffsetAlignment)
        let padded = (rows * cols * type.size + 3) / 4 * 4
        buffer = try device.allocate(bytes: padded)
        switch type {
        case .f32:
            try values.withUnsafeBytes { try device.write($0, to: buffer.view) }
        case .f16:
            var bits = values.map { Float16($0).bitPattern }
            if bits.count % 2 == 1 { bits.append(0) }
            try bits.withUnsafeBytes { try device.write($0, to: buffer.view) }
        }
    }

    private init(of parent: LinearWeight, firstRow: Int, rows: Int) {
        buffer = parent.buffer
        byteOffset = parent.byteOffset + firstRow * parent.cols * parent.type.size
        self.rows = rows
        cols = parent.cols
        type = parent.type
        bindingAlignment = parent.bindingAlignment
    }

    /// Rows `range` as a weight of their own, sharing this one's memory. Throws when the
    /// range does not start at an offset the device can bind (minStorageBufferOffsetAlignment).
    public func rows(_ range: Range<Int>) throws -> LinearWeight {
        try require(range.lowerBound >= 0 && range.upperBound <= rows && !range.isEmpty, "weight: rows \(range) of a \(rows)-row weight")
        let offset = byteOffset + range.lowerBound * cols * type.size
        try require(offset % bindingAlignment == 0,
                    "weight: rows from \(range.lowerBound) start at byte \(offset), not a multiple of the binding alignment \(bindingAlignment)")
        return LinearWeight(of: self, firstRow: range.lowerBound, rows: range.count)
    }

    /// Whether `rows(_:)` can start a part at `row`.
    public func canSplit(atRow row: Int) -> Bool { (byteOffset + row * cols * type.size) % bindingAlignment == 0 }

    /// Rows [first, first + count) as a view; the byte offset must respect the binding alignment.
    func rowSlice(first: Int, count: Int) -> BufferView {
        let start = byteOffset + first * cols * type.size
        let end = min(buffer.size, (byteOffset + (first + count) * cols * type.size + 3) / 4 * 4)
        return buffer.view.slice(offset: start, size: end - start)
    }
}
