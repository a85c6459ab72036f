import VulkanCore

/// Causal GQA attention for a few new tokens over a long KV cache (decode): the same
/// contract as CausalAttentionOp, computed split-K (Shaders/decode_attention.comp).
/// Pass 1 gives each of `splits` key ranges and each kv head a workgroup for the
/// T * (heads / kvHeads) query rows that read that kv head and writes partial results
/// (max, sum, weighted V); pass 2 merges them per query row. The cache length p0 + T is read
/// on the device and the ranges are cut from it there, so one recording serves every decode
/// step, and the grid does not depend on the cache capacity. q and out are stored as
/// `activations`, the caches as `cache`; partial results and softmax are fp32.
public enum DecodeAttentionOp {
    public enum Variant: String, CaseIterable, Sendable {
        /// One invocation per query row over the whole range (GPUs).
        case rowPerInvocation
        /// Each invocation takes every query row and a strided share of the keys (CPU devices,
        /// where each lane's load is a gather that should fetch distinct useful values).
        case keysPerInvocation
    }

    static let combineLocal = 64

    static func maxRows(_ variant: Variant, caps: DeviceCapabilities) -> Int {
        variant == .keysPerInvocation ? 16 : min(64, caps.maxComputeWorkGroupInvocations)
    }

    static func invocations(_ variant: Variant, rows: Int, caps: DeviceCapabilities) -> Int {
        variant == .keysPerInvocation ? max(1, min(64, caps.subgroupSize)) : rows
    }

    /// Whether this shape fits the split kernel; otherwise use CausalAttentionOp.
    public static func supports(tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int, caps: DeviceCapabilities, variant: Variant) -> Bool {
        guard kvHeads > 0, heads % kvHeads == 0, hd % 4 == 0, hd <= 256, t > 0 else { return false }
        return t * heads / kvHeads <= maxRows(variant, caps: caps)
    }

    /// Bytes of the scratch buffer `encode` needs.
    public static func scratchBytes(tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int, splits: Int, caps: DeviceCapabilities,
                                    variant v: Variant) -> Int {
        let (o, ml) = scratchParts(parts: parts(v, splits: splits, rows: t * heads / max(1, kvHeads), caps: caps), rows: t * heads, headDim: hd)
        return o + ml
    }

    static func parts(_ variant: Variant, splits: Int, rows: Int, caps: DeviceCapabilities) -> Int {
        variant == .keysPerInvocation ? splits * invocations(variant, rows: rows, caps: caps) : splits
    }

    static func scratchParts(parts: Int, rows: Int, headDim hd: Int) -> (Int, Int) {
        ((parts * rows * hd * 4 + 255) / 256 * 256, parts * rows * 8)
    }

    public static func encode(_ seq: CommandSequence, q: BufferView, kCache: BufferView, vCache: BufferView, out: BufferView,
                              position: BufferView, scratch: BufferView, tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int,
                              capacity: Int, splits: Int, variant chosen: Variant? = nil, positionHint: Int = 0,
                              activations: StorageType = .f32, cache: StorageType = .f32, label: String = "decode_attention") throws {
        let caps = seq.device.capabilities
        let variant = chosen ?? seq.device.kernelPolicy.decodeAttention
        try require(supports(tokens: t, heads: heads, kvHeads: kvHeads, headDim: hd, caps: caps, variant: variant),
                    "decode attention: \(t) tokens x \(heads)/\(kvHeads) heads x hd \(hd) do not fit the \(variant) split kernel; use CausalAttentionOp")
        try require(t <= capacity, "decode attention: \(t) tokens for a cache of \(capacity) rows")
        try require(splits > 0 && splits <= Grid.maxGroups && t * heads <= Grid.maxGroups, "decode attention: \(splits) splits x \(t * heads) rows do not fit the grid")
        try requireActivations(activations, on: caps, "decode attention")
        try requireActivations(cache, on: caps, "decode attention (fp16 KV cache)")
        let (a, c) = (activations.size, cache.size)
        try require(q.size >= t * heads * hd * a && out.size >= t * heads * hd * a, "decode attention: q or out smaller than \(t)x\(heads * hd) \(activations)")
        try require(kCache.size >= capacity * kvHeads * hd * c && vCache.size >= capacity * kvHeads * hd * c,
                    "decode attention: caches smaller than \(capacity)x\(kvHeads * hd) \(cache)")
        try require(position.size >= 4, "decode attention: the position buffer holds no uint")
        let group = heads / kvHeads
        let rows = t * group
        let partCount = parts(variant, splits: splits, rows: rows, caps: caps)
        let (oBytes, mlBytes) = scratchParts(parts: partCount, rows: t * heads, headDim: hd)
        try require(scratch.size >= oBytes + mlBytes, "decode attention: scratch holds \(scratch.size) bytes, needs \(oBytes + mlBytes)")
        let partO = scratch.slice(offset: 0, size: oBytes)
        let partML = scratch.slice(offset: oBytes, size: mlBytes)

        let scale = Float(1.4426950408889634 / Double(hd).squareRoot())
        let push: [UInt32] = [UInt32(t), UInt32(heads), UInt32(group), UInt32(capacity), UInt32(splits), UInt32(partCount),
                              UInt32(heads * hd / 4), UInt32(kvHeads * hd / 4), UInt32(heads * hd / 4), scale.bits]
        let laneKeys = variant == .keysPerInvocation
        let length = Double(min(capacity, positionHint + t))
        let splitShader: ShaderSource
        switch (activations, cache) {
        case (.f32, .f32): splitShader = ShaderLibrary.decode_attention_split
        case (.f16, .f32): splitShader = ShaderLibrary.decode_attention_split_a16
        case (.f32, .f16): splitShader = ShaderLibrary.decode_attention_split_c16
        case (.f16, .f16): splitShader = ShaderLibrary.decode_attention_split_a16_c16
        }
        let split = try seq.device.pipeline(splitShader, bindings: 7, pushConstantSize: 40,
                                            specialization: [UInt32(invocations(variant, rows: rows, caps: caps)), UInt32(hd), UInt32(rows),
                                                             laneKeys ? 1 : 0, UInt32(laneKeys ? rows : 1)])
        try seq.dispatch(split, [.read(q), .read(kCache), .read(vCache), .write(partO), .write(partML), .read(q), .read(position)],
                         push: push, groups: (splits, kvHeads, 1), label: label + ".split",
                         flops: length * Double(t * heads) * Double(4 * hd + 5),
                         bytes: length * Double(kvHeads * hd * 2 * c) + Double(t * heads * hd * a) + Double(oBytes + mlBytes))
        let combineShader = activations == .f16 ? ShaderLibrary.decode_attention_combine_a16 : ShaderLibrary.decode_attention_combine
        let combine = try seq.device.pipeline(combineShader, bindings: 7, pushConstantSize: 40,
                                              specialization: [UInt32(max(1, min(combineLocal, hd / 4))), UInt32(hd), 1, 0, 1])
        try seq.dispatch(combine, [.read(q), .read(kCache), .read(vCache), .read(partO), .read(partML), .write(out), .read(position)],
                         push: push, groups: (t * heads, 1, 1), label: label + ".combine",
                         flops: Double(partCount * t * heads * (2 * hd + 4)),
                         bytes: Double(oBytes + mlBytes + t * heads * hd * a))
    }
}
