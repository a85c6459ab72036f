import Ops
import VulkanCore

/// `LanguageBackend` for one decode step of several independent sequences at once: row i of
/// every tensor belongs to sequence i. Everything that mixes no rows (norms, projections,
/// the MLP, the LM head) runs once over all rows through the single-sequence recorder, so the
/// GEMVs read each weight once for every row; RoPE, the cache append and attention run per
/// row through a recorder bound to that row's own KV cache and step buffer (its position),
/// which keeps each row's arithmetic the same as a one-sequence decode step.
final class BatchedRecorder: LanguageBackend {
    typealias Tensor = GPUTensor

    private let shared: GPULanguageRecorder
    /// One recorder per row, on the same command sequence and arena, bound to that row's cache.
    private let rows: [GPULanguageRecorder]
    private let seq: CommandSequence
    private let arena: TensorArena
    private let resources: LanguageResources

    init(seq: CommandSequence, arena: TensorArena, shared: LanguageResources, rows: [LanguageResources], fusesSwiGLU: Bool, foldsNorms: Bool) {
        self.seq = seq
        self.arena = arena
        resources = shared
        self.shared = GPULanguageRecorder(seq: seq, arena: arena, resources: shared, fusesSwiGLU: fusesSwiGLU, foldsNorms: foldsNorms)
        self.rows = rows.map { GPULanguageRecorder(seq: seq, arena: arena, resources: $0, fusesSwiGLU: fusesSwiGLU, foldsNorms: foldsNorms) }
    }

    func rmsNorm(_ x: GPUTensor, weight: [Float], key: String) throws -> GPUTensor { try shared.rmsNorm(x, weight: weight, key: key) }

    func linear(_ x: GPUTensor, _ w: LinearWeights, key: String, silu: Bool, residual: GPUTensor?) throws -> GPUTensor {
        try shared.linear(x, w, key: key, silu: silu, residual: residual)
    }

    func multiply(_ a: GPUTensor, _ b: GPUTensor) throws -> GPUTensor { try shared.multiply(a, b) }

    func attentionProjections(_ x: GPUTensor, q: LinearWeights, k: LinearWeights, v: LinearWeights,
                              key: String) throws -> (q: GPUTensor, k: GPUTensor, v: GPUTensor) {
        try shared.attentionProjections(x, q: q, k: k, v: v, key: key)
    }

    func gatedProjection(_ x: GPUTensor, gate: LinearWeights, up: LinearWeights, key: String) throws -> GPUTensor {
        try shared.gatedProjection(x, gate: gate, up: up, key: key)
    }

    /// Per row: that sequence's RoPE + cache append + attention, its output copied into row i.
    func attention(q: GPUTensor, k: GPUTensor, v: GPUTensor, layer: Int) throws -> GPUTensor {
        guard rows.count > 1 else { return try rows[0].attention(q: q, k: k, v: v, layer: layer) }
        var out: GPUTensor?
        for (i, recorder) in rows.enumerated() {
            let o = try recorder.attention(q: try row(q, i), k: try row(k, i), v: try row(v, i), layer: layer)
            let batch = try out ?? arena.tensor([rows.count, o.shape[1]], o.type)
            out = batch
            let bytes = batch.view.size / rows.count
            try seq.copy(from: o.view, to: batch.view.slice(offset: i * bytes, size: bytes))
        }
        return out!
    }

    /// Every row is a last row: each sequence samples its own next token.
    func lastRow(_ x: GPUTensor) throws -> GPUTensor { x }

    /// The LM head over all rows (fp32 logits, [rows][vocab]).
    func logits(_ x: GPUTensor, lmHead: WeightTensor, key: String) throws -> GPUTensor {
        try shared.logits(x, lmHead: lmHead, key: key)
    }

    /// Row i of a [rows][width] tensor as a [1][width] tensor that keeps the whole alive. A
    /// row whose offset the device cannot bind is copied to a fresh tensor instead.
    func row(_ t: GPUTensor, _ i: Int) throws -> GPUTensor {
        let bytes = t.view.size / t.shape[0]
        let alignment = max(4, seq.device.capabilities.minStorageBufferOffsetAlignment)
        let slice = t.view.slice(offset: i * bytes, size: bytes)
        if (slice.buffer.offset + slice.offset) % alignment == 0 {
            return GPUTensor(view: slice, shape: [1, t.shape[1]], type: t.type) { withExtendedLifetime(t) {} }
        }
        let copy = try arena.tensor([1, t.shape[1]], t.type)
        try seq.copy(from: slice, to: copy.view)
        return copy
    }
}
