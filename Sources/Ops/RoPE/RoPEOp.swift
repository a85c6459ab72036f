import VulkanCore

/// Qwen2 rotary embedding (rotate_half) on q [T][heads * hd] and k [T][kvHeads * hd] at
/// positions p0 ..< p0 + T, p0 = the uint at `position` (read on the device: a recorded
/// decode step replays at the next position after the host rewrites that uint). One
/// dispatch for q and k; the fused form also appends this step's k (rotated) and v to the
/// caches at rows p0 ..< p0 + T (Shaders/rope.comp).
public enum RoPEOp {
    static let local = 64

    /// inv_freq[j] = theta^(-2j/hd) as transformers computes it in fp32, uploaded once per
    /// model and passed to `encode` as `frequencies`.
    public static func frequencyTable(_ device: Device, headDim hd: Int, theta: Float) throws -> DeviceBuffer {
        try device.upload(Reference.ropeInverseFrequencies(headDim: hd, theta: theta))
    }

    /// q and k rotated in place.
    public static func encode(_ seq: CommandSequence, q: BufferView, k: BufferView, frequencies: BufferView, position: BufferView,
                              tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int, label: String = "rope") throws {
        try check(q: q, k: k, frequencies: frequencies, position: position, t: t, heads: heads, kvHeads: kvHeads, hd: hd)
        let pipeline = try seq.device.pipeline(ShaderLibrary.rope, bindings: 7, pushConstantSize: 20, specialization: [UInt32(local)])
        let items = t * (heads + kvHeads) * hd / 2
        try seq.dispatch(pipeline, [.readWrite(q), .readWrite(k), .read(position), .read(position), .read(position), .read(position), .read(frequencies)],
                         push: push(t, heads, kvHeads, hd, 0), groups: Grid.strided(items, local: local), label: label,
                         flops: Double(items) * 30, bytes: Double(items) * 16)
    }

    /// q rotated in place; k rotated into kCache rows p0 ..< p0 + T and v copied into vCache
    /// rows p0 ..< p0 + T (k itself is left as it was). Rows at or past `capacity` are not written.
    public static func encode(_ seq: CommandSequence, q: BufferView, k: BufferView, v: BufferView, kCache: BufferView, vCache: BufferView,
                              frequencies: BufferView, position: BufferView, tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int,
                              capacity: Int, label: String = "rope_kv") throws {
        try check(q: q, k: k, frequencies: frequencies, position: position, t: t, heads: heads, kvHeads: kvHeads, hd: hd)
        let width = kvHeads * hd
        try require(floats(v) >= t * width, "rope: v holds \(floats(v)) floats, needs \(t)x\(width)")
        try require(floats(kCache) >= capacity * width && floats(vCache) >= capacity * width, "rope: caches smaller than \(capacity)x\(width)")
        let pipeline = try seq.device.pipeline(ShaderLibrary.rope_kv, bindings: 7, pushConstantSize: 20, specialization: [UInt32(local)])
        let pairs = t * (heads + kvHeads) * hd / 2
        let items = pairs + t * width
        try seq.dispatch(pipeline, [.readWrite(q), .read(k), .read(v), .write(kCache), .write(vCache), .read(position), .read(frequencies)],
                         push: push(t, heads, kvHeads, hd, capacity), groups: Grid.strided(items, local: local), label: label,
                         flops: Double(pairs) * 30, bytes: Double(pairs) * 16 + Double(t * width) * 8)
    }

    static func push(_ t: Int, _ heads: Int, _ kvHeads: Int, _ hd: Int, _ capacity: Int) -> [UInt32] {
        [UInt32(t), UInt32(heads), UInt32(kvHeads), UInt32(hd), UInt32(capacity)]
    }

    static func check(q: BufferView, k: BufferView, frequencies: BufferView, position: BufferView, t: Int, heads: Int, kvHeads: Int, hd: Int) throws {
        try require(t > 0 && heads > 0 && kvHeads > 0 && hd > 0 && hd % 2 == 0, "rope: bad shape \(t) tokens, \(heads)/\(kvHeads) heads, hd \(hd)")
        try require(floats(q) >= t * heads * hd, "rope: q holds \(floats(q)) floats, needs \(t)x\(heads * hd)")
        try require(floats(k) >= t * kvHeads * hd, "rope: k holds \(floats(k)) floats, needs \(t)x\(kvHeads * hd)")
        try require(floats(frequencies) >= hd / 2, "rope: the frequency table holds \(floats(frequencies)) values, needs \(hd / 2)")
        try require(position.size >= 4, "rope: the position buffer holds no uint")
    }
}
