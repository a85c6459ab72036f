import VulkanCore

/// FastViTHD MHSA core on tokens: qkv rows [N][3C] ([q | k | v], head h = channels
/// hd*h ..< hd*(h+1) within each third) -> out [N][C] = softmax(q k^T / sqrt(hd)) v per head,
/// heads concatenated; no mask. Flash style (Shaders/flash_attention.comp): the N x N score
/// matrix is never stored. qkv and out are stored as `activations` (fp16 or fp32); scores,
/// softmax and sums are fp32 either way. The proj Linear that follows is LinearOp.
public enum VisionAttentionOp {
    public static func encode(_ seq: CommandSequence, qkv: BufferView, out: BufferView, tokens n: Int, channels c: Int,
                              headDim: Int = 32, activations: StorageType = .f32, variant: AttentionVariant? = nil,
                              label: String = "vision_attention") throws {
        try require(n > 0 && c > 0 && c % headDim == 0, "vision attention: \(c) channels are not a multiple of head dim \(headDim)")
        let a = activations.size
        try require(qkv.size >= n * 3 * c * a, "vision attention: qkv holds \(qkv.size) bytes, needs \(n)x\(3 * c) \(activations)")
        try require(out.size >= n * c * a, "vision attention: out holds \(out.size) bytes, needs \(n)x\(c) \(activations)")
        let heads = c / headDim
        let layout = FlashAttentionKernel.Layout(rows: n, keys: n, heads: heads, kvHeads: heads, headDim: headDim,
                                                 qStride: 3 * c, kStride: 3 * c, vStride: 3 * c, oStride: c,
                                                 qOffset: 0, kOffset: c, vOffset: 2 * c)
        let (nd, cd) = (Double(n), Double(c))
        try FlashAttentionKernel.encode(seq, causal: false, q: qkv, k: qkv, v: qkv, out: out, position: nil, layout: layout,
                                        activations: activations, variant: variant ?? seq.device.kernelPolicy.attention, label: label,
                                        flops: 4 * nd * nd * cd + 5 * nd * nd * Double(heads), bytes: 4 * nd * cd * Double(a))
    }
}
