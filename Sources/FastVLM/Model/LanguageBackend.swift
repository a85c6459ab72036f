/// The operations Qwen2 is built from. The backend owns the KV cache and the position of
/// the next token, so the same code serves prefill (T tokens) and decode (T = 1).
public protocol LanguageBackend {
    associatedtype Tensor

    /// Rows [T][H] for the embeddings already placed by the caller (text rows and image rows).
    func rmsNorm(_ x: Tensor, weight: [Float], key: String) throws -> Tensor
    /// y = residual + act(x W^T + b).
    func linear(_ x: Tensor, _ w: LinearWeights, key: String, silu: Bool, residual: Tensor?) throws -> Tensor
    func multiply(_ a: Tensor, _ b: Tensor) throws -> Tensor
    /// RoPE on q and k at the current positions, append k/v to layer `layer`'s cache, then
    /// causal GQA attention of q over the cache. Returns [T][heads * headDim].
    func attention(q: Tensor, k: Tensor, v: Tensor, layer: Int) throws -> Tensor
    /// The last row of x, [1][H].
    func lastRow(_ x: Tensor) throws -> Tensor
    /// LM head over [1][H] -> logits [1][vocab].
    func logits(_ x: Tensor, lmHead: WeightTensor, key: String) throws -> Tensor

    /// q, k and v of the same rows. The default runs three `linear`s (keys `key`.q_proj,
    /// .k_proj, .v_proj); a backend may run one GEMM over the stacked weights.
    func attentionProjections(_ x: Tensor, q: LinearWeights, k: LinearWeights, v: LinearWeights, key: String) throws -> (q: Tensor, k: Tensor, v: Tensor)
    /// silu(x Wg^T) * (x Wu^T). The default runs `linear` twice (keys `key`.gate_proj,
    /// .up_proj) and `multiply`; a backend may fuse them.
    func gatedProjection(_ x: Tensor, gate: LinearWeights, up: LinearWeights, key: String) throws -> Tensor
}

extension LanguageBackend {
    public func attentionProjections(_ x: Tensor, q: LinearWeights, k: LinearWeights, v: LinearWeights, key: String) throws -> (q: Tensor, k: Tensor, v: Tensor) {
        (try linear(x, q, key: key + ".q_proj", silu: false, residual: nil),
         try linear(x, k, key: key + ".k_proj", silu: false, residual: nil),
         try linear(x, v, key: key + ".v_proj", silu: false, residual: nil))
    }

    public func gatedProjection(_ x: Tensor, gate: LinearWeights, up: LinearWeights, key: String) throws -> Tensor {
        try multiply(try linear(x, gate, key: key + ".gate_proj", silu: true, residual: nil),
                     try linear(x, up, key: key + ".up_proj", silu: false, residual: nil))
    }
}

public enum Qwen2 {
    /// Runs the decoder over `x` ([T][H], positions continuing the cache) and returns the
    /// logits of the last position.
    /// With `logits: false` it stops after the layers (filling the KV cache) and returns the
    /// hidden rows: a prefill chunk that is not the prompt's last needs no LM head.
    public static func forward<B: LanguageBackend>(_ w: Qwen2Weights, embeddings x: B.Tensor, on b: B, logits: Bool = true) throws -> B.Tensor {
        var x = x
        for (i, l) in w.layers.enumerated() {
            let key = "layers.\(i)"
            let h = try b.rmsNorm(x, weight: l.inputNorm, key: key + ".input_layernorm")
            let (q, k, v) = try b.attentionProjections(h, q: l.q, k: l.k, v: l.v, key: key + ".self_attn")
            let attended = try b.attention(q: q, k: k, v: v, layer: i)
            x = try b.linear(attended, l.o, key: key + ".o_proj", silu: false, residual: x)
            let h2 = try b.rmsNorm(x, weight: l.postAttentionNorm, key: key + ".post_attention_layernorm")
            let gated = try b.gatedProjection(h2, gate: l.gate, up: l.up, key: key + ".mlp")
            x = try b.linear(gated, l.down, key: key + ".down_proj", silu: false, residual: x)
        }
        guard logits else { return x }
        let last = try b.rmsNorm(try b.lastRow(x), weight: w.norm, key: "norm")
        return try b.logits(last, lmHead: w.lmHead, key: "lm_head")
    }
}
