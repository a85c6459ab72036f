import VulkanCore

/// How values are stored in device memory (arithmetic is always fp32).
public enum StorageType: String, Sendable, CaseIterable {
    case f16, f32
    public var size: Int { self == .f16 ? 2 : 4 }
}

/// A [rows][cols] weight (PyTorch Linear layout: rows = out features N, cols = in features K)
/// resident on the device. Sizes are padded to whole 32-bit words for the shaders' loads.
public final class LinearWeight {
    public let buffer: DeviceBuffer
    public let rows: Int
    public let cols: Int
    public let type: StorageType

    public var byteCount: Int { rows * cols * type.size }

    public init(device: Device, values: [Float], rows: Int, cols: Int, type: StorageType) throws {
        try require(values.count == rows * cols, "weight: \(values.count) values for \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        self.type = type
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

    /// Rows [first, first + count) as a view; the byte offset must respect the binding alignment.
    func rowSlice(first: Int, count: Int) -> BufferView {
        let start = first * cols * type.size
        let end = min(buffer.size, ((first + count) * cols * type.size + 3) / 4 * 4)
        return buffer.view.slice(offset: start, size: end - start)
    }
}
