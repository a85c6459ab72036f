import VulkanCore

/// Appends this step's k and v rows [T][width] to the caches [capacity][width] at rows
/// p0 ..< p0 + T, p0 = the uint at `position` (read on the device, so a recorded step
/// replays at the next position). Rows at or past `capacity` are not written. RoPEOp's
/// fused form does the same while rotating k; this one is for unrotated rows.
public enum KVCacheWriteOp {
    static let local = 64

    public static func encode(_ seq: CommandSequence, k: BufferView, v: BufferView, kCache: BufferView, vCache: BufferView, position: BufferView,
                              tokens t: Int, width: Int, capacity: Int, label: String = "kv_cache_write") throws {
        try require(t > 0 && width > 0, "kv cache write: empty rows")
        try require(floats(k) >= t * width && floats(v) >= t * width, "kv cache write: k or v smaller than \(t)x\(width)")
        try require(floats(kCache) >= capacity * width && floats(vCache) >= capacity * width, "kv cache write: caches smaller than \(capacity)x\(width)")
        try require(position.size >= 4, "kv cache write: the position buffer holds no uint")
        let pipeline = try seq.device.pipeline(ShaderLibrary.kv_cache_write, bindings: 7, pushConstantSize: 20, specialization: [UInt32(local)])
        let items = 2 * t * width
        // Layout as rope.comp reads it: heads 0, kv heads 1, head dim = width.
        try seq.dispatch(pipeline, [.read(position), .read(k), .read(v), .write(kCache), .write(vCache), .read(position), .read(position)],
                         push: [UInt32(t), 0, 1, UInt32(width), UInt32(capacity)], groups: Grid.strided(items, local: local), label: label,
                         bytes: Double(items) * 8)
    }
}
