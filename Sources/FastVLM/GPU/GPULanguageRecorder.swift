import Ops
import VulkanCore

/// The resources every recording of the decoder shares: weights, KV cache, RoPE table,
/// step buffers and the logits row.
struct LanguageResources {
    let config: Qwen2Config
    let weights: GPUWeightStore
    /// Storage of every activation row but the residual stream and the logits (both fp32).
    let activations: StorageType
    let cache: KVCacheBuffers
    let frequencies: DeviceBuffer
    let step: StepBuffers
    /// [vocab] fp32: the LM head's output, the input of sampling, what `lastLogits` reads.
    let logits: DeviceBuffer
}

/// `LanguageBackend` on the GPU: each call records its kernels into a CommandSequence
/// instead of computing, so `Qwen2.forward` run once over this backend yields a replayable
/// prefill (T tokens) or decode step (T = 1). Tensors are [rows][width] in the resources'
/// activation storage (fp32 or fp16; arithmetic fp32), except the residual stream (the
/// embeddings, each o_proj / down_proj output with its residual add, the final hidden state):
/// that stays fp32, as hidden states outgrow fp16 (Qwen2 checkpoints reach 1e4 and beyond),
/// and only the rows derived from it (normed, q/k/v, attention, gate/up) take the 16-bit
/// storage. Tensors come from a TensorArena whose memory is
/// reused by lifetime; the positions come from the step buffer, so a recording does not
/// depend on where in the cache it runs.
final class GPULanguageRecorder: LanguageBackend {
    typealias Tensor = GPUTensor

    let seq: CommandSequence
    let arena: TensorArena
    let r: LanguageResources
    /// Whether a GEMV down projection may take the raw gate/up rows (see gatedProjection).
    let fusesSwiGLU: Bool
    /// The stacked [gate | up] tensor gatedProjection returned unreduced: the next linear
    /// given exactly this tensor runs over silu(gate) * up itself. Weak, so a freed tensor's
    /// memory reused for another can never be taken for it.
    private weak var pendingSwiGLU: GPUTensor?
    /// Whether an RMSNorm whose consumers run as GEMVs is left to them (see rmsNorm).
    let foldsNorms: Bool
    private var pendingNorm: PendingNorm?

    /// An RMSNorm not computed: `normed` stands for norm(source) and shares source's memory;
    /// the GEMVs given `normed` normalise source as they load it.
    private struct PendingNorm {
        weak var normed: GPUTensor?
        let source: GPUTensor
        let weight: DeviceBuffer
    }

    init(seq: CommandSequence, arena: TensorArena, resources: LanguageResources, fusesSwiGLU: Bool, foldsNorms: Bool) {
        self.seq = seq
        self.arena = arena
        r = resources
        self.fusesSwiGLU = fusesSwiGLU
        self.foldsNorms = foldsNorms
    }

    private var device: Device { seq.device }
    private var act: StorageType { r.activations }

    /// Where every consumer of the normalised rows will be a GEMV (decode: a few rows; Qwen2
    /// feeds a norm's output only to the q/k/v, gate/up and LM-head projections, all with
    /// K = width), no norm is recorded: the returned tensor is a stand-in those GEMVs resolve to
    /// x and the norm weight (LinearOp.Input.rmsNorm). One dispatch and one barrier fewer per norm.
    func rmsNorm(_ x: GPUTensor, weight: [Float], key: String) throws -> GPUTensor {
        let w = try r.weights.vector(key, weight)
        if foldsNorms, device.kernelPolicy.linear(m: rows(x), k: width(x)) == .gemv {
            let normed = GPUTensor(view: x.view, shape: x.shape, type: x.type) { withExtendedLifetime(x) {} }
            pendingNorm = PendingNorm(normed: normed, source: x, weight: w)
            return normed
        }
        let y = try arena.tensor(x.shape, act)
        try RowNormOp.encode(seq, .rms, x: x.view, weight: w.view, y: y.view, rows: rows(x), width: width(x), eps: r.config.rmsNormEps,
                             activations: x.type, output: act)
        return y
    }

    func linear(_ x: GPUTensor, _ w: LinearWeights, key: String, silu: Bool, residual: GPUTensor?) throws -> GPUTensor {
        try apply(try r.weights.linear(key, w), to: x, activation: silu ? .silu : .none, residual: residual, label: key)
    }

    /// What a GEMM given `x` reads: the stacked gate/up rows of a fused SwiGLU, the rows under
    /// a folded norm, or x itself.
    private func linearInput(_ x: GPUTensor) -> (rows: GPUTensor, input: LinearOp.Input) {
        if let p = pendingSwiGLU, p === x {
            pendingSwiGLU = nil
            return (x, .swiGLU)
        }
        if let p = pendingNorm, p.normed === x { return (p.source, .rmsNorm(weight: p.weight.view, eps: r.config.rmsNormEps)) }
        return (x, .plain)
    }

    /// Ops other than a GEMM cannot take a folded norm's stand-in (Qwen2 never gives them one).
    private func requireComputed(_ tensors: GPUTensor...) throws {
        for t in tensors where pendingNorm.map({ $0.normed === t }) == true {
            throw GPULanguageModelError("internal: a folded RMSNorm's output reached an op other than a GEMV")
        }
    }

    func multiply(_ a: GPUTensor, _ b: GPUTensor) throws -> GPUTensor {
        try requireComputed(a, b)
        guard a.type == act, b.type == act else { throw GPULanguageModelError("internal: multiply over the residual stream's fp32 rows") }
        let y = try arena.tensor(a.shape, act)
        try ElementwiseOp.encode(seq, .mul, a: a.view, b: b.view, y: y.view, count: a.count, activations: act)
        return y
    }

    /// One GEMM over the stacked [q; k; v] when q, k and v can be views of its output row
    /// (decode); three GEMMs over the parts otherwise (prefill, whose attention wants
    /// separate [T][width] operands).
    func attentionProjections(_ x: GPUTensor, q: LinearWeights, k: LinearWeights, v: LinearWeights,
                              key: String) throws -> (q: GPUTensor, k: GPUTensor, v: GPUTensor) {
        let s = try r.weights.qkv(key + ".qkv", q: q, k: k, v: v)
        let (qw, kw) = (s.q.weight.rows, s.k.weight.rows)
        let alignment = max(4, device.capabilities.minStorageBufferOffsetAlignment)
        if rows(x) == 1, (qw * act.size) % alignment == 0, ((qw + kw) * act.size) % alignment == 0 {
            let row = try apply(s.stacked, to: x, label: key + ".qkv_proj")
            return (part(row, at: 0, width: qw), part(row, at: qw, width: kw), part(row, at: qw + kw, width: s.v.weight.rows))
        }
        return (try apply(s.q, to: x, label: key + ".q_proj"), try apply(s.k, to: x, label: key + ".k_proj"),
                try apply(s.v, to: x, label: key + ".v_proj"))
    }

    /// One GEMM over the stacked [gate; up] weight, then silu(gate) * up. When the down
    /// projection (K = intermediate) will run as a GEMV (decode), the stacked [T][2 * width]
    /// rows are returned as they are and marked, and that GEMV applies silu(gate) * up as it
    /// loads them: one dispatch and one barrier fewer per layer. Only `linear` may consume
    /// the marked tensor, which is what Qwen2.forward does with it.
    func gatedProjection(_ x: GPUTensor, gate: LinearWeights, up: LinearWeights, key: String) throws -> GPUTensor {
        let stacked = try apply(try r.weights.stacked(key + ".gate_up", [gate, up]), to: x, label: key + ".gate_up_proj")
        if fusesSwiGLU, device.kernelPolicy.linear(m: rows(x), k: gate.outFeatures, format: r.weights.formats.matrix(cols: gate.outFeatures)) == .gemv {
            pendingSwiGLU = stacked
            return stacked
        }
        let y = try arena.tensor([rows(x), gate.outFeatures], act)
        try SwiGLUOp.encode(seq, x: stacked.view, y: y.view, rows: rows(x), width: gate.outFeatures, activations: act)
        return y
    }

    func attention(q: GPUTensor, k: GPUTensor, v: GPUTensor, layer: Int) throws -> GPUTensor {
        try requireComputed(q, k, v)
        let c = r.config
        let t = rows(q)
        let cache = r.cache.layer(layer)
        let position = r.step.position
        try RoPEOp.encode(seq, q: q.view, k: k.view, v: v.view, kCache: cache.k, vCache: cache.v, frequencies: r.frequencies.view,
                          position: position, tokens: t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
                          capacity: r.cache.capacity, activations: act, cache: r.cache.type, label: "rope_kv")
        let out = try arena.tensor([t, c.heads * c.headDim], act)
        // Recorded as if the cache were empty (a recording replays at many positions);
        // GPULanguageModel rescales these counts to each run's real position for the profile.
        let label = "attention"
        let caps = device.capabilities
        let policy = device.kernelPolicy
        let variant = policy.decodeAttention
        if DecodeAttentionOp.supports(tokens: t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, caps: caps, variant: variant) {
            let splits = policy.decodeAttentionSplits
            let bytes = DecodeAttentionOp.scratchBytes(tokens: t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, splits: splits, caps: caps, variant: variant)
            let scratch = try arena.tensor([bytes / 4], .f32)
            try DecodeAttentionOp.encode(seq, q: q.view, kCache: cache.k, vCache: cache.v, out: out.view, position: position, scratch: scratch.view,
                                         tokens: t, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, capacity: r.cache.capacity,
                                         splits: splits, variant: variant, activations: act, cache: r.cache.type, label: label)
        } else {
            try CausalAttentionOp.encode(seq, q: q.view, kCache: cache.k, vCache: cache.v, out: out.view, position: position, tokens: t,
                                         heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, capacity: r.cache.capacity,
                                         activations: act, cache: r.cache.type, label: label)
        }
        return out
    }

    func lastRow(_ x: GPUTensor) throws -> GPUTensor {
        try requireComputed(x)
        let (t, w) = (rows(x), width(x))
        if t == 1 { return x }
        let a = x.type.size
        let y = try arena.tensor([1, w], x.type)
        try seq.copy(from: x.view.slice(offset: (t - 1) * w * a, size: w * a), to: y.view)
        return y
    }

    /// Writes the model's logits row (a persistent buffer, not the arena; arena rows for several), fp32 whatever the
    /// activation storage: sampling reads fp32. Under a folded final norm the GEMV reads the
    /// fp32 residual row; otherwise it reads the normed (fp16) row and writes fp32.
    func logits(_ x: GPUTensor, lmHead: WeightTensor, key: String) throws -> GPUTensor {
        let head = try r.weights.matrix(key, lmHead)
        // One row: the persistent logits buffer; several (a batched decode step): arena rows.
        let y = rows(x) == 1 ? GPUTensor(view: r.logits.view, shape: [1, head.rows], type: .f32)
                             : try arena.tensor([rows(x), head.rows], .f32)
        let (rowsIn, input) = linearInput(x)
        try LinearOp.encode(seq, x: rowsIn.view, weight: head, bias: nil, y: y.view, m: rows(x), activations: rowsIn.type, output: .f32,
                            input: input, label: key)
        return y
    }

    // MARK: helpers

    private func rows(_ t: GPUTensor) -> Int { t.shape[0] }
    private func width(_ t: GPUTensor) -> Int { t.shape.count > 1 ? t.shape[1] : 1 }

    /// Labels without the layer number, so the profiler's table sums an op over layers.
    private func opLabel(_ key: String) -> String {
        let parts = key.split(separator: ".")
        return parts.count > 2 && parts[0] == "layers" ? parts.dropFirst(2).joined(separator: ".") : key
    }

    /// Y takes the residual's storage (the fp32 stream) when there is one, the rows' otherwise;
    /// X is read as stored (the fp32 stream under a folded norm).
    private func apply(_ l: DeviceLinear, to x: GPUTensor, activation: LinearOp.Activation = .none, residual: GPUTensor? = nil,
                       label: String) throws -> GPUTensor {
        let (source, input) = linearInput(x)
        let y = try arena.tensor([rows(x), l.weight.rows], residual?.type ?? act)
        try LinearOp.encode(seq, x: source.view, weight: l.weight, bias: l.bias?.view, y: y.view, m: rows(x), activation: activation,
                            residual: residual?.view, activations: source.type, output: y.type, input: input, label: opLabel(label))
        return y
    }

    /// Columns first ..< first + width of a one-row tensor, keeping the row's memory alive.
    private func part(_ row: GPUTensor, at first: Int, width: Int) -> GPUTensor {
        GPUTensor(view: row.view.slice(offset: first * act.size, size: width * act.size), shape: [1, width], type: act) { withExtendedLifetime(row) {} }
    }
}
