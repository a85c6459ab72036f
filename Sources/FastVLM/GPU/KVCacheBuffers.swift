import Ops
import VulkanCore

/// Qwen2's KV cache in device memory: per layer, K and V rows [capacity][kvHeads * headDim]
/// stored as `type` (rotated keys, as RoPEOp appends them; fp16 halves the bytes). What fills
/// them and up to where is the model's business; the buffers only fix the capacity.
final class KVCacheBuffers {
    let capacity: Int
    /// Values per cached row.
    let width: Int
    let type: StorageType
    private let keys: [DeviceBuffer]
    private let values: [DeviceBuffer]

    /// Bytes of one layer's K (or V) cache.
    static func layerBytes(config c: Qwen2Config, capacity: Int, type: StorageType) -> Int { capacity * c.kvHeads * c.headDim * type.size }

    init(device: Device, config c: Qwen2Config, capacity: Int, type: StorageType) throws {
        self.capacity = capacity
        self.type = type
        width = c.kvHeads * c.headDim
        let bytes = Self.layerBytes(config: c, capacity: capacity, type: type)
        let limit = device.capabilities.maxStorageBufferRange
        guard bytes <= limit else {
            throw GPULanguageModelError("a KV cache of \(capacity) positions needs \(bytes >> 20) MiB per layer, more than one binding can hold on this device (\(limit >> 20) MiB); use a smaller capacity")
        }
        keys = try (0..<c.layers).map { _ in try device.allocate(bytes: bytes) }
        values = try (0..<c.layers).map { _ in try device.allocate(bytes: bytes) }
    }

    /// Device bytes of all layers' K and V.
    var bytes: Int { (keys + values).reduce(0) { $0 + $1.size } }

    func layer(_ i: Int) -> (k: BufferView, v: BufferView) { (keys[i].view, values[i].view) }
}
