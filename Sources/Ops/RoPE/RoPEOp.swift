import VulkanCore

/// Qwen2 rotary embedding (rotate_half) on q [T][heads * hd] and k [T][kvHeads * hd] at
/// positions p0 ..< p0 + T, p0 = the uint at `position` (read on the device: a recorded
/// decode step replays at the next position after the host rewrites that uint). One
/// dispatch for q and k; the fused form also appends this step's k (rotated) and v to the
/// caches at rows p0 ..< p0 + T (Shaders/rope.comp). q, k and v are stored as `activations`,
/// the caches as `cache` (fp16: rounded once when appended); the rotation is fp32.
public enum RoPEOp {
    static let local = 64

    /// inv_freq[j] = theta^(-2j/hd) as transformers computes it in fp32, uploaded once per
    /// model and passed to `encode` as `frequencies`.
    public static func frequencyTable(_ device: Device, headDim hd: Int, theta: Float) throws -> DeviceBuffer {
        try device.upload(Reference.ropeInverseFrequencies(headDim: hd, theta: theta))
    }

    /// q and k rotated in place.
    public static func encode(_ seq: CommandSequence, q: BufferView, k: BufferView, frequencies: BufferView, position: BufferView,
                              tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int, activations: StorageType = .f32,
                              label: String = "rope") throws {
        try check(seq, q: q, k: k, frequencies: frequencies, position: position, t: t, heads: heads, kvHeads: kvHeads, hd: hd, activations: activations)
        let shader = activations == .f16 ? ShaderLibrary.rope_a16 : ShaderLibrary.rope
        let pipeline = try seq.device.pipeline(shader, bindings: 7, pushConstantSize: 20, specialization: [UInt32(local)])
        let items = t * (heads + kvHeads) * hd / 2
        try seq.dispatch(pipeline, [.readWrite(q), .readWrite(k), .read(position), .read(position), .read(position), .read(position), .read(frequencies)],
                         push: push(t, heads, kvHeads, hd, 0), groups: Grid.strided(items, local: local), label: label,
                         flops: Double(items) * 30, bytes: Double(items * 4 * activations.size))
    }

    /// q rotated in place; k rotated into kCache rows p0 ..< p0 + T and v copied into vCache
    /// rows p0 ..< p0 + T (k itself is left as it was). Rows at or past `capacity` are not written.
    public static func encode(_ seq: CommandSequence, q: BufferView, k: BufferView, v: BufferView, kCache: BufferView, vCache: BufferView,
                              frequencies: BufferView, position: BufferView, tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int,
                              capacity: Int, activations: StorageType = .f32, cache: StorageType = .f32, label: String = "rope_kv") throws {
        try check(seq, q: q, k: k, frequencies: frequencies, position: position, t: t, heads: heads, kvHeads: kvHeads, hd: hd, activations: activations)
        try requireActivations(cache, on: seq.device.capabilities, "rope (fp16 KV cache)")
        let width = kvHeads * hd
        let (a, c) = (activations.size, cache.size)
        try require(v.size >= t * width * a, "rope: v holds \(v.size) bytes, needs \(t)x\(width) \(activations)")
        try require(kCache.size >= capacity * width * c && vCache.size >= capacity * width * c, "rope: caches smaller than \(capacity)x\(width) \(cache)")
        let shader: ShaderSource
        switch (activations, cache) {
        case (.f32, .f32): shader = ShaderLibrary.rope_kv
        case (.f16, .f32): shader = ShaderLibrary.rope_kv_a16
        case (.f32, .f16): shader = ShaderLibrary.rope_kv_c16
        case (.f16, .f16): shader = ShaderLibrary.rope_kv_a16_c16
        }
        let pipeline = try seq.device.pipeline(shader, bindings: 7, pushConstantSize: 20, specialization: [UInt32(local)])
        let pairs = t * (heads + kvHeads) * hd / 2
        let items = pairs + t * width
        try seq.dispatch(pipeline, [.readWrite(q), .read(k), .read(v), .write(kCache), .write(vCache), .read(position), .read(frequencies)],
                         push: push(t, heads, kvHeads, hd, capacity), groups: Grid.strided(items, local: local), label: label,
                         flops: Double(pairs) * 30, bytes: Double(pairs * 2 * (a + c)) + Double(t * width * (a + c)))
    }

    static func push(_ t: Int, _ heads: Int, _ kvHeads: Int, _ hd: Int, _ capacity: Int) -> [UInt32] {
        [UInt32(t), UInt32(heads), UInt32(kvHeads), UInt32(hd), UInt32(capacity)]
    }

    static func check(_ seq: CommandSequence, q: BufferView, k: BufferView, frequencies: BufferView, position: BufferView, t: Int, heads: Int,
                      kvHeads: Int, hd: Int, activations: StorageType) throws {
        try require(t > 0 && heads > 0 && kvHeads > 0 && hd > 0 && hd % 2 == 0, "rope: bad shape \(t) tokens, \(heads)/\(kvHeads) heads, hd \(hd)")
        try requireActivations(activations, on: seq.device.capabilities, "rope")
        let a = activations.size
        try require(q.size >= t * heads * hd * a, "rope: q holds \(q.size) bytes, needs \(t)x\(heads * hd) \(activations)")
        try require(k.size >= t * kvHeads * hd * a, "rope: k holds \(k.size) bytes, needs \(t)x\(kvHeads * hd) \(activations)")
        try require(floats(frequencies) >= hd / 2, "rope: the frequency table holds \(floats(frequencies)) values, needs \(hd / 2)")
        try require(position.size >= 4, "rope: the position buffer holds no uint")
    }
}
