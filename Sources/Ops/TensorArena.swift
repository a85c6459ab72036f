import VulkanCore

/// A device tensor: a view plus its logical shape and storage type. Its memory returns to
/// the arena it came from when the last reference goes.
public final class GPUTensor {
    public let view: BufferView
    public let shape: [Int]
    public let type: StorageType
    private let onRelease: (() -> Void)?

    public init(view: BufferView, shape: [Int], type: StorageType, onRelease: (() -> Void)? = nil) {
        self.view = view
        self.shape = shape
        self.type = type
        self.onRelease = onRelease
    }

    deinit { onRelease?() }

    public var count: Int { shape.reduce(1, *) }
}

/// Activation memory for one recorded graph, reused by lifetime: a tensor's range is free
/// again once the model code drops it, and later dispatches may reuse it (the recorder's
/// hazard tracking orders the reuse after the last read). The chunks live as long as the
/// arena, so a recorded graph stays valid for replay while its arena is alive.
public final class TensorArena {
    public let device: Device
    private var chunks: [(buffer: DeviceBuffer, ranges: RangeAllocator)] = []
    private let chunkSize: Int
    private let alignment: Int

    /// Device memory is reserved in chunks of at least this size.
    public static let defaultChunkSize = 64 << 20

    public init(device: Device, chunkSize: Int = TensorArena.defaultChunkSize) {
        self.device = device
        self.chunkSize = chunkSize
        alignment = max(64, device.capabilities.minStorageBufferOffsetAlignment)
    }

    /// Bytes reserved from the device.
    public var reservedBytes: Int { chunks.reduce(0) { $0 + $1.buffer.size } }

    public func tensor(_ shape: [Int], _ type: StorageType) throws -> GPUTensor {
        let bytes = max(4, (shape.reduce(1, *) * type.size + 3) / 4 * 4)
        for i in chunks.indices {
            if let offset = chunks[i].ranges.take(bytes, alignment: alignment) {
                return make(i, offset, bytes, shape, type)
            }
        }
        let buffer = try device.allocate(bytes: max(bytes, chunkSize))
        chunks.append((buffer, RangeAllocator(size: buffer.size)))
        guard let offset = chunks[chunks.count - 1].ranges.take(bytes, alignment: alignment) else {
            throw OpError("arena: a fresh chunk could not hold \(bytes) bytes")
        }
        return make(chunks.count - 1, offset, bytes, shape, type)
    }

    private func make(_ chunk: Int, _ offset: Int, _ bytes: Int, _ shape: [Int], _ type: StorageType) -> GPUTensor {
        GPUTensor(view: chunks[chunk].buffer.view.slice(offset: offset, size: bytes), shape: shape, type: type) { [weak self] in
            self?.chunks[chunk].ranges.give(offset: offset, size: bytes)
        }
    }
}
