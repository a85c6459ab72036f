import Ops
import VulkanCore

/// Decode slots over one GPULanguageModel: each slot has its own KV cache and step buffer,
/// and the decode steps of any set of slots run as one recorded, batched step (BatchedRecorder):
/// one embedding of all rows, every GEMV over all rows at once, attention per row at that
/// row's position. Prompts are prefilled by the model itself (its own cache is the staging
/// area) and the filled positions copied into a slot. Recordings are kept per set of slots and
/// sampling kinds, so a step that looks like an earlier one is one submit.
final class BatchedDecoder {
    let model: GPULanguageModel
    /// The most rows one GEMV takes at once (LinearOp's GEMV keeps weights in registers for
    /// up to 8 rows); more slots would need a GEMM.
    static let maxSlots = 8

    private let caches: [KVCacheBuffers]
    private let steps: [StepBuffers]
    /// Token ids of the rows of a step, in row order (host-visible: written before each run).
    private let ids: DeviceBuffer
    private var recordings: [(key: [RowKind], recording: LanguageRecording)] = []
    private static let recordingCacheSize = 24

    struct RowKind: Hashable {
        let slot: Int
        let greedy: Bool
    }

    /// One row of a step: the slot, the token to feed at `position`, and how to sample the next.
    struct Row {
        let slot: Int
        let token: Int
        let position: Int
        let sampling: SamplingParameters
        let draw: Float
    }

    var slotCount: Int { caches.count }
    /// Positions each slot holds.
    var capacity: Int { model.capacity }
    /// Device bytes of the slots' KV caches.
    var cacheBytes: Int { caches.reduce(0) { $0 + $1.bytes } }

    init(model: GPULanguageModel, slots: Int) throws {
        guard slots >= 1, slots <= Self.maxSlots else { throw GPULanguageModelError("decode slots must be 1 to \(Self.maxSlots), not \(slots)") }
        self.model = model
        do {
            caches = try (0..<slots).map { _ in try KVCacheBuffers(device: model.device, config: model.config, capacity: model.capacity, type: model.kvCache) }
        } catch let error as VulkanError {
            guard case .outOfDeviceMemory = error else { throw error }
            throw GPULanguageModelError("\(slots) KV caches of \(model.capacity) positions do not fit the device memory beside the model; use fewer --slots or a smaller --context")
        }
        steps = try (0..<slots).map { _ in try StepBuffers(device: model.device) }
        ids = try model.device.allocateHostVisible(bytes: Self.maxSlots * 4)
    }

    /// Copies the first `length` positions of the model's own cache (a prompt just prefilled
    /// there) into `slot`'s cache.
    func take(prefilledPositions length: Int, into slot: Int) throws {
        try copy(length, from: model.resources.cache, to: caches[slot])
    }

    /// Moves a sequence of `length` positions from one slot to another (the engine keeps its
    /// active requests in the lowest slots, so a step of M rows is always slots 0 ..< M).
    func move(_ length: Int, from source: Int, to destination: Int) throws {
        try copy(length, from: caches[source], to: caches[destination])
    }

    private func copy(_ length: Int, from source: KVCacheBuffers, to destination: KVCacheBuffers) throws {
        guard length > 0 else { return }
        let seq = CommandSequence(device: model.device, label: "kv copy")
        for layer in 0..<model.config.layers {
            let (sk, sv) = source.layer(layer)
            let (dk, dv) = destination.layer(layer)
            let bytes = sk.size / source.capacity * length
            try seq.copy(from: sk, to: dk, bytes: bytes)
            try seq.copy(from: sv, to: dv, bytes: bytes)
        }
        try seq.run()
    }

    /// Records the greedy steps of 1 ... slotCount rows over the lowest slots now, so serving
    /// records nothing and its memory stays what it is after the first request.
    func recordGreedySteps() throws {
        for m in 1...slotCount { _ = try recording(for: (0..<m).map { RowKind(slot: $0, greedy: true) }) }
    }

    /// One decode step for all `rows` (at most one per slot); returns each row's next token.
    func step(_ rows: [Row]) throws -> [Int] {
        guard !rows.isEmpty else { return [] }
        guard Set(rows.map(\.slot)).count == rows.count, rows.allSatisfy({ $0.slot >= 0 && $0.slot < slotCount }) else {
            throw GPULanguageModelError("a batched step needs distinct slots of the \(slotCount)")
        }
        for row in rows {
            guard row.position < capacity else { throw GPULanguageModelError("slot \(row.slot) is full (\(capacity) positions)") }
            guard row.token >= 0, row.token < model.config.vocabSize else {
                throw GPULanguageModelError("token id \(row.token) is outside the \(model.config.vocabSize)-row embedding")
            }
            try steps[row.slot].write(position: row.position, token: row.token, sampling: row.sampling, draw: row.draw)
        }
        try rows.map { UInt32($0.token) }.withUnsafeBytes { try model.device.write($0, to: ids.view.slice(offset: 0, size: rows.count * 4)) }
        _ = try recording(for: rows.map { RowKind(slot: $0.slot, greedy: $0.sampling.isGreedy) }).run()
        return try rows.map { try steps[$0.slot].readChosen() }
    }

    private func recording(for key: [RowKind]) throws -> LanguageRecording {
        if let i = recordings.firstIndex(where: { $0.key == key }) {
            let hit = recordings.remove(at: i)
            recordings.append(hit)
            return hit.recording
        }
        if recordings.count >= Self.recordingCacheSize { recordings.removeFirst() }
        let recording = try record(key)
        recordings.append((key, recording))
        return recording
    }

    private func record(_ key: [RowKind]) throws -> LanguageRecording {
        let c = model.config
        let m = key.count
        let recording = LanguageRecording(device: model.device, label: "decode x\(m)", profiling: false, arenaChunk: 4 << 20)
        let shared = model.resources
        let rowResources = key.map { k in
            LanguageResources(config: c, weights: shared.weights, activations: shared.activations, cache: caches[k.slot], frequencies: shared.frequencies,
                              step: steps[k.slot], logits: shared.logits)
        }
        // The residual stream is fp32 whatever the rows' storage (GPULanguageRecorder).
        let x = try recording.arena.tensor([m, c.hiddenSize], .f32)
        try EmbeddingOp.encode(recording.seq, table: model.embedding, ids: ids.view.slice(offset: 0, size: m * 4), out: x.view, tokens: m,
                               activations: .f32)
        let backend = BatchedRecorder(seq: recording.seq, arena: recording.arena, shared: shared, rows: rowResources, fusesSwiGLU: model.fusesSwiGLU,
                                      foldsNorms: model.foldsNorms)
        let logits = try Qwen2.forward(model.host, embeddings: x, on: backend)
        let vocab = model.sampleVocabulary
        for (i, k) in key.enumerated() {
            let rowLogits = try backend.row(logits, i)
            let step = steps[k.slot]
            if k.greedy {
                let scratch = try recording.arena.tensor([ArgmaxOp.scratchBytes(count: vocab) / 4], .f32)
                try ArgmaxOp.encode(recording.seq, logits: rowLogits.view, count: vocab, scratch: scratch.view, result: step.chosen)
            } else {
                try SampleOp.encode(recording.seq, logits: rowLogits.view, count: vocab, parameters: step.sampling, result: step.chosen)
            }
        }
        return recording
    }
}
