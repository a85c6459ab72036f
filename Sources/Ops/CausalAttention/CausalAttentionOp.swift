import VulkanCore

/// Qwen2 causal GQA attention, prefill form (flash style, Shaders/flash_attention.comp):
/// q [T][heads * hd] for the tokens at positions p0 ..< p0 + T, with p0 = the uint at
/// `position` (read on the device, so a recorded sequence can be replayed at another
/// position); caches [capacity][kvHeads * hd] whose rows 0 ..< p0 + T are filled (this
/// step's rows written by RoPEOp). Query head h uses kv head
/// h / (heads / kvHeads); scale 1 / sqrt(hd); key position <= query position; softmax in
/// fp32. q and out are stored as `activations`, the caches as `cache`. out [T][heads * hd]. For a few tokens over a long cache DecodeAttentionOp
/// spreads the keys over more workgroups.
public enum CausalAttentionOp {
    /// - Parameter positionHint: the p0 expected when the sequence runs; only used for the
    ///   profiler's FLOP and byte counts (the kernel reads p0 from `position`).
    public static func encode(_ seq: CommandSequence, q: BufferView, kCache: BufferView, vCache: BufferView, out: BufferView,
                              position: BufferView, tokens t: Int, heads: Int, kvHeads: Int, headDim hd: Int, capacity: Int,
                              positionHint: Int = 0, variant: AttentionVariant? = nil, activations: StorageType = .f32, cache: StorageType = .f32,
                              label: String = "causal_attention") throws {
        try require(t > 0 && t <= capacity, "causal attention: \(t) tokens for a cache of \(capacity) rows")
        let (a, c) = (activations.size, cache.size)
        try require(q.size >= t * heads * hd * a && out.size >= t * heads * hd * a, "causal attention: q or out smaller than \(t)x\(heads * hd) \(activations)")
        try require(kCache.size >= capacity * kvHeads * hd * c && vCache.size >= capacity * kvHeads * hd * c,
                    "causal attention: caches smaller than \(capacity)x\(kvHeads * hd) \(cache)")
        try require(position.size >= 4, "causal attention: the position buffer holds no uint")
        let layout = FlashAttentionKernel.Layout(rows: t, keys: capacity, heads: heads, kvHeads: kvHeads, headDim: hd,
                                                 qStride: heads * hd, kStride: kvHeads * hd, vStride: kvHeads * hd, oStride: heads * hd)
        // Score pairs: sum over rows of (p0 + i + 1) keys.
        let pairs = Double(t) * Double(positionHint) + Double(t) * Double(t + 1) / 2
        let length = Double(min(capacity, positionHint + t))
        try FlashAttentionKernel.encode(seq, causal: true, q: q, k: kCache, v: vCache, out: out, position: position, layout: layout,
                                        activations: activations, cache: cache, variant: variant ?? seq.device.kernelPolicy.attention, label: label,
                                        flops: pairs * Double(heads) * Double(4 * hd + 5),
                                        bytes: Double(hd) * (2 * Double(t * heads * a) + 2 * length * Double(kvHeads * c)))
    }
}
