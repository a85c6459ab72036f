import Dispatch
import Foundation
import Ops
import VulkanCore

/// Qwen2 on the GPU: weights and a KV cache in device memory, prefill recorded per prompt
/// shape in chunks of at most `prefillChunk` positions (recent recordings kept for replay),
/// one decode step recorded once and replayed per token, sampling on the device. Between runs only a small step buffer changes (position,
/// token, sampling parameters with the uniform draw); per decode token there is one submit
/// and one 4-byte readback, the chosen id.
///
/// The architecture is `Qwen2.forward` (Model/LanguageBackend.swift) run over
/// GPULanguageRecorder, which records instead of computing. The host draws the uniform with
/// `SplitMix64.nextUnit()` exactly where `Reference.sample` does (non-greedy only), so a
/// seed gives the tokens of the CPU pipeline.
public final class GPULanguageModel {
    public let device: Device
    public let config: Qwen2Config
    public let formats: WeightFormats
    /// Ids sampling may choose: 0 ..< sampleVocabulary.
    public let sampleVocabulary: Int
    public let profiling: Bool
    /// Storage of the decoder's activation rows and of its KV cache (fp16 halves their bytes;
    /// norms, softmax and every accumulation stay fp32, the logits are fp32 either way).
    public let activations: StorageType
    public var kvCache: StorageType { resources.cache.type }
    /// Whether GEMV down projections take the raw gate/up rows (GPULanguageRecorder.gatedProjection);
    /// KernelPolicy.fusesSwiGLU unless a test says otherwise.
    let fusesSwiGLU: Bool
    /// Whether RMSNorms feeding GEMVs are folded into them (GPULanguageRecorder.rmsNorm).
    let foldsNorms: Bool

    /// Positions the KV cache holds.
    public var capacity: Int { resources.cache.capacity }
    /// Tokens in the cache (the position of the next one).
    public private(set) var length = 0
    /// Device bytes of the uploaded weights and of the KV cache.
    public var weightBytes: Int { resources.weights.bytes }
    public var kvCacheBytes: Int { resources.cache.bytes }

    /// Profiles of the last prefill and of the decode steps since creation or `reset()`
    /// (per-dispatch GPU times), when profiling.
    public private(set) var prefillProfile: PhaseProfile?
    /// Built when asked, not per token: the timings grow with every step.
    public var decodeProfile: PhaseProfile? {
        guard profiling, decodeSteps > 0 else { return nil }
        return PhaseProfile(name: "decode", timings: decodeTimings, stats: decodeStats, wallSeconds: decodeSeconds,
                            readbackBytes: 4 * decodeSteps, steps: decodeSteps)
    }
    /// Counts of the last prefill (all its chunks), and totals over the decode steps since
    /// creation or `reset()` (dispatches and barriers as recorded, times the runs; submits as run).
    public private(set) var prefillStats = SequenceStats()
    public private(set) var decodeStats = SequenceStats()
    public private(set) var decodeSteps = 0
    /// The most positions one prefill run takes; longer prompts run in chunks, which bounds
    /// the activation memory (the [T][2 * intermediate] gate/up rows must fit one binding).
    public let prefillChunk: Int

    var host: Qwen2Weights
    let resources: LanguageResources
    let embedding: LinearWeight
    private let promptIDs: DeviceBuffer
    private var greedyStep: LanguageRecording?
    private var sampledStep: LanguageRecording?
    /// Recent prefill recordings, oldest first.
    private var prefillCache: [(key: PrefillKey, recording: LanguageRecording)] = []
    private static let prefillCacheSize = 3
    private var decodeTimings: [DispatchTiming] = []
    private var decodeSeconds = 0.0

    /// Positions one prefill recording takes unless told otherwise.
    static let defaultPrefillChunk = 512

    /// Uploads the weights (in `formats`; fp32 arithmetic) and allocates a KV cache of
    /// `capacity` positions. Throws a clear error if capacity > config.maxPositions or device
    /// memory runs out. `prefillChunk` defaults to 512 positions, fewer where a binding cannot
    /// hold that many gate/up rows. `activations` and `kvCache` choose the storage of the
    /// decoder's rows and cache; fp16 needs shaderFloat16 and 16-bit storage buffers.
    public convenience init(device: Device, weights: Qwen2Weights, formats: WeightFormats, capacity: Int, sampleVocabulary: Int,
                            profiling: Bool = false, prefillChunk: Int? = nil, activations: StorageType = .f32, kvCache: StorageType = .f32) throws {
        try self.init(device: device, weights: weights, formats: formats, capacity: capacity, sampleVocabulary: sampleVocabulary,
                      profiling: profiling, prefillChunk: prefillChunk, fusesSwiGLU: device.kernelPolicy.fusesSwiGLU,
                      foldsNorms: device.kernelPolicy.foldsNorms, activations: activations, kvCache: kvCache)
    }

    /// Throws unless the device can store decoder rows or the KV cache as `type`.
    public static func requireStorage(_ type: StorageType, for what: String, on caps: DeviceCapabilities) throws {
        guard type == .f16 else { return }
        guard caps.shaderFloat16, caps.storageBuffer16BitAccess else {
            let missing = [caps.shaderFloat16 ? nil : "shaderFloat16", caps.storageBuffer16BitAccess ? nil : "storageBuffer16BitAccess"].compactMap { $0 }
            throw GPULanguageModelError("fp16 \(what) need \(missing.joined(separator: " and ")), which \(caps.name) lacks; use f32")
        }
    }

    /// `fusesSwiGLU: false` keeps the separate SwiGLU dispatch in decode too, `foldsNorms: false`
    /// the separate RMSNorm dispatches (tests compare).
    init(device: Device, weights: Qwen2Weights, formats: WeightFormats, capacity: Int, sampleVocabulary: Int, profiling: Bool,
         prefillChunk: Int?, fusesSwiGLU: Bool, foldsNorms: Bool, activations: StorageType = .f32, kvCache: StorageType = .f32) throws {
        let c = weights.config
        try Self.validate(weights, capacity: capacity, sampleVocabulary: sampleVocabulary)
        try Self.requireStorage(activations, for: "decoder activations", on: device.capabilities)
        try Self.requireStorage(kvCache, for: "KV caches", on: device.capabilities)
        // The residual stream's rows are fp32 whatever the storage of the others.
        let widest = max(activations.size * max(2 * c.intermediateSize, (c.heads + 2 * c.kvHeads) * c.headDim), 4 * c.hiddenSize)
        let fits = device.capabilities.maxStorageBufferRange / widest
        guard fits > 0 else { throw GPULanguageModelError("one activation row (\(widest) bytes) exceeds the device's binding limit") }
        let chunk = max(1, min(prefillChunk ?? Self.defaultPrefillChunk, fits))
        self.prefillChunk = chunk
        self.device = device
        config = c
        self.formats = formats
        self.sampleVocabulary = sampleVocabulary
        self.profiling = profiling
        self.activations = activations
        self.fusesSwiGLU = fusesSwiGLU
        self.foldsNorms = foldsNorms
        host = weights
        do {
            let store = GPUWeightStore(device: device, formats: formats)
            embedding = try store.matrix("embed_tokens", weights.embedTokens)
            if weights.tiedEmbeddings { store.alias("lm_head", to: embedding) }
            resources = LanguageResources(config: c, weights: store, activations: activations,
                                          cache: try KVCacheBuffers(device: device, config: c, capacity: capacity, type: kvCache),
                                          frequencies: try RoPEOp.frequencyTable(device, headDim: c.headDim, theta: c.ropeTheta),
                                          step: try StepBuffers(device: device),
                                          logits: try device.allocate(bytes: c.vocabSize * 4))
            promptIDs = try device.allocate(bytes: min(capacity, chunk) * 4)
            // Recording the decode step walks every layer: it uploads all the weights now.
            greedyStep = try recordDecode(greedy: true)
        } catch let error as VulkanError {
            guard case .outOfDeviceMemory = error else { throw error }
            throw GPULanguageModelError("the language model (\(formats) weights, a \(kvCache) KV cache of \(capacity) positions) does not fit the device memory: \(error)")
        }
    }

    /// Empties the cache (a new conversation) and the decode statistics.
    public func reset() {
        length = 0
        decodeStats = SequenceStats()
        decodeSteps = 0
        decodeTimings = []
        decodeSeconds = 0
    }

    /// Embeds the prompt on the GPU (text ids gathered from the table; image rows copied
    /// from `image`, a device view of [prompt.imageRows][hidden] fp32, e.g. the projector
    /// output), runs the decoder over all positions, the final norm and LM head at the last
    /// position only, and samples on the GPU. Continues after what is already in the cache,
    /// so it also serves later chat turns.
    public func prefill(_ prompt: SplicedPrompt, image: BufferView?, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int {
        let t = prompt.count
        guard t > 0 else { throw GPULanguageModelError("the prompt is empty") }
        guard t <= capacity - length else {
            throw GPULanguageModelError("the prompt has \(t) positions but the KV cache has \(capacity - length) of its \(capacity) free (\(length) in use); reset() or create the model with a larger capacity")
        }
        let h = config.hiddenSize
        var ids: [UInt32] = []
        ids.reserveCapacity(t)
        var runs: [ImageRun] = []
        var imageRows = 0
        for (position, slot) in prompt.slots.enumerated() {
            if let id = slot {
                guard id >= 0, id < config.vocabSize else { throw GPULanguageModelError("token id \(id) at position \(position) is outside the \(config.vocabSize)-row embedding") }
                ids.append(UInt32(id))
                continue
            }
            ids.append(EmbeddingOp.imageToken)
            if let last = runs.last, last.position + last.count == position { runs[runs.count - 1].count += 1 } else {
                runs.append(ImageRun(position: position, row: imageRows, count: 1))
            }
            imageRows += 1
        }
        var source: BufferView?
        if imageRows > 0 {
            guard let image else { throw GPULanguageModelError("the prompt has \(imageRows) image positions but no image rows were given") }
            guard image.size >= imageRows * h * 4 else {
                throw GPULanguageModelError("the prompt has \(imageRows) image positions but the image buffer holds \(image.size / (h * 4)) rows of \(h) floats")
            }
            source = image
        }
        let greedy = sampling.isGreedy
        let draw = greedy ? 0 : rng.nextUnit()
        let image = source.map(PrefillKey.ImageSource.init)

        // Chunks of at most prefillChunk positions, each continuing the cache; only the last
        // one's sample counts (the others run their greedy recording and are overwritten).
        let startLength = length
        var timings: [DispatchTiming] = []
        var total = SequenceStats()
        var wall = 0.0
        do {
            var first = 0
            while first < t {
                let end = min(t, first + prefillChunk)
                let last = end == t
                let chunkRuns = Self.clip(runs, to: first..<end)
                let key = PrefillKey(tokens: end - first, runs: chunkRuns, image: chunkRuns.isEmpty ? nil : image, greedy: last ? greedy : true, last: last)
                try Array(ids[first..<end]).withUnsafeBytes { try device.write($0, to: promptIDs.view) }
                try resources.step.write(position: length, token: 0, sampling: last ? sampling : SamplingParameters(), draw: last ? draw : 0)
                let recording = try prefillRecording(key, image: source)
                let (stats, seconds) = try recording.run()
                length += end - first
                total += stats
                wall += seconds
                if profiling { timings.appendRun(attentionCounted(recording.seq.timings, tokens: end - first, start: length - (end - first))) }
                first = end
            }
        } catch {
            length = startLength
            throw error
        }
        let chosen = try resources.step.readChosen()
        // fp16 rows hold at most 65504: the residual stream is fp32, but rows derived from it
        // (q/k/v, attention output, gate/up, their products) beyond that (weights not trained
        // for it, such as unscaled random ones) end as inf/NaN logits. Checked once per prompt,
        // not per token, rather than answering from NaN.
        if activations == .f16, try !lastLogits().allSatisfy(\.isFinite) {
            length = startLength
            throw GPULanguageModelError("the decoder overflowed fp16 activation storage (projections or MLP rows beyond 65504); use fp32 decoder storage (--decoder-storage f32)")
        }
        prefillStats = total
        if profiling {
            prefillProfile = PhaseProfile(name: "prefill", timings: timings, stats: total, wallSeconds: wall,
                                          readbackBytes: 4 + (activations == .f16 ? 4 * config.vocabSize : 0))
        }
        return chosen
    }

    /// Keeps the first `n` positions of the cache (the rows past them are simply overwritten later).
    public func truncate(to n: Int) throws {
        guard n >= 0, n <= length else { throw GPULanguageModelError("cannot truncate a cache of \(length) positions to \(n)") }
        length = n
    }

    /// One decode step for `token`, recorded once and replayed (the position in the step
    /// buffer): exactly one submit and one 4-byte readback per token.
    public func decode(_ token: Int, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int {
        guard length < capacity else { throw GPULanguageModelError("the KV cache is full (\(capacity) positions); reset() or create the model with a larger capacity") }
        guard token >= 0, token < config.vocabSize else { throw GPULanguageModelError("token id \(token) is outside the \(config.vocabSize)-row embedding") }
        let greedy = sampling.isGreedy
        let draw = greedy ? 0 : rng.nextUnit()
        try resources.step.write(position: length, token: token, sampling: sampling, draw: draw)
        let recording = try decodeStep(greedy: greedy)
        let (stats, wall) = try recording.run()
        let chosen = try resources.step.readChosen()
        length += 1
        decodeSteps += 1
        decodeStats += stats
        decodeSeconds += wall
        if profiling { decodeTimings.appendRun(attentionCounted(recording.seq.timings, tokens: 1, start: length - 1)) }
        return chosen
    }

    /// The logits of the last position computed, [vocabSize] (downloads; for --dump and tests).
    public func lastLogits() throws -> [Float] {
        try device.download(resources.logits.view, as: Float.self, count: config.vocabSize)
    }

    // MARK: recording

    /// Attention dispatches are recorded with the work of an empty cache (the recording
    /// replays at many positions); for the profile this scales their FLOPs by the
    /// (query, key) pairs at the run's real position `start` and adds the K and V rows (in the
    /// cache's storage) of the `start` earlier positions to their bytes.
    func attentionCounted(_ timings: [DispatchTiming], tokens t: Int, start p0: Int) -> [DispatchTiming] {
        let pairs = Double(t) * Double(p0) + Double(t) * Double(t + 1) / 2
        let flopScale = pairs / (Double(t) * Double(t + 1) / 2)
        let earlierBytes = Double(p0 * config.kvHeads * config.headDim * 2 * kvCache.size)
        return timings.map { d in
            guard d.kernel == "decode_attention_split" || d.kernel == "flash_attention_causal" else { return d }
            return DispatchTiming(label: d.label, kernel: d.kernel, startNs: d.startNs, durationNs: d.durationNs,
                                  flops: d.flops * flopScale, bytes: d.bytes + earlierBytes)
        }
    }

    /// Image runs inside positions `range`, relative to its start.
    static func clip(_ runs: [ImageRun], to range: Range<Int>) -> [ImageRun] {
        runs.compactMap { run in
            let lo = max(run.position, range.lowerBound), hi = min(run.position + run.count, range.upperBound)
            return hi > lo ? ImageRun(position: lo - range.lowerBound, row: run.row + lo - run.position, count: hi - lo) : nil
        }
    }

    /// The recording for a prefill chunk: replayed when the same shape comes again (the
    /// same prompt after reset(), the full chunks of a long prompt), else recorded.
    private func prefillRecording(_ key: PrefillKey, image: BufferView?) throws -> LanguageRecording {
        if let i = prefillCache.firstIndex(where: { $0.key == key }) { return prefillCache[i].recording }
        if prefillCache.count >= Self.prefillCacheSize { prefillCache.removeFirst() }
        let recording = try recordPrefill(key, image: image)
        prefillCache.append((key, recording))
        return recording
    }

    private func decodeStep(greedy: Bool) throws -> LanguageRecording {
        if greedy, let s = greedyStep { return s }
        if !greedy, let s = sampledStep { return s }
        let s = try recordDecode(greedy: greedy)
        if greedy { greedyStep = s } else { sampledStep = s }
        return s
    }

    private func recordDecode(greedy: Bool) throws -> LanguageRecording {
        let recording = LanguageRecording(device: device, label: greedy ? "decode" : "decode (sampled)", profiling: profiling, arenaChunk: 4 << 20)
        let x = try recording.arena.tensor([1, config.hiddenSize], .f32)
        try EmbeddingOp.encode(recording.seq, table: embedding, ids: resources.step.token, out: x.view, tokens: 1, activations: .f32)
        try forwardAndSample(recording, embeddings: x, greedy: greedy)
        return recording
    }

    private func recordPrefill(_ key: PrefillKey, image: BufferView?) throws -> LanguageRecording {
        let (t, h) = (key.tokens, config.hiddenSize)
        let chunk = max(1 << 20, t * MemoryPlan.languageBytesPerToken(config, act: activations))
        let recording = LanguageRecording(device: device, label: "prefill \(t)", profiling: profiling, arenaChunk: chunk)
        let seq = recording.seq
        // The residual stream (embeddings and spliced image rows first) is fp32.
        let x = try recording.arena.tensor([t, h], .f32)
        try EmbeddingOp.encode(seq, table: embedding, ids: promptIDs.view.slice(offset: 0, size: t * 4), out: x.view, tokens: t, activations: .f32)
        if let image {
            for run in key.runs {
                try EmbeddingOp.splice(seq, rows: image, from: run.row, into: x.view, at: run.position, count: run.count, hidden: h, activations: .f32)
            }
        }
        if key.last {
            try forwardAndSample(recording, embeddings: x, greedy: key.greedy)
        } else {
            _ = try Qwen2.forward(host, embeddings: x, on: GPULanguageRecorder(seq: seq, arena: recording.arena, resources: resources, fusesSwiGLU: fusesSwiGLU, foldsNorms: foldsNorms), logits: false)
        }
        return recording
    }

    private func forwardAndSample(_ recording: LanguageRecording, embeddings: GPUTensor, greedy: Bool) throws {
        let backend = GPULanguageRecorder(seq: recording.seq, arena: recording.arena, resources: resources, fusesSwiGLU: fusesSwiGLU, foldsNorms: foldsNorms)
        let logits = try Qwen2.forward(host, embeddings: embeddings, on: backend)
        let step = resources.step
        if greedy {
            let scratch = try recording.arena.tensor([ArgmaxOp.scratchBytes(count: sampleVocabulary) / 4], .f32)
            try ArgmaxOp.encode(recording.seq, logits: logits.view, count: sampleVocabulary, scratch: scratch.view, result: step.chosen)
        } else {
            try SampleOp.encode(recording.seq, logits: logits.view, count: sampleVocabulary, parameters: step.sampling, result: step.chosen)
        }
    }

    // MARK: checks

    static let maxRoPEPositions = 51_000

    private static func validate(_ w: Qwen2Weights, capacity: Int, sampleVocabulary: Int) throws {
        let c = w.config
        guard capacity > 0 else { throw GPULanguageModelError("the KV cache capacity must be positive, not \(capacity)") }
        guard capacity <= c.maxPositions else {
            throw GPULanguageModelError("a KV cache of \(capacity) positions exceeds the model's context of \(c.maxPositions) positions")
        }
        // rope.comp reduces angles (position x inv_freq, inv_freq[0] = 1) exactly below 2^15 * pi/2.
        guard capacity <= maxRoPEPositions else {
            throw GPULanguageModelError("a KV cache of \(capacity) positions is beyond the \(maxRoPEPositions) the GPU RoPE kernel computes exactly")
        }
        guard sampleVocabulary > 0, sampleVocabulary <= c.vocabSize else {
            throw GPULanguageModelError("the sampling vocabulary (\(sampleVocabulary)) must be within the \(c.vocabSize) logits")
        }
        guard c.kvHeads > 0, c.heads % c.kvHeads == 0, c.headDim % 2 == 0 else {
            throw GPULanguageModelError("unsupported attention geometry: \(c.heads) heads, \(c.kvHeads) kv heads, head dim \(c.headDim)")
        }
        let table = [c.vocabSize, c.hiddenSize]
        guard w.layers.count == c.layers, w.embedTokens.shape == table, w.lmHead.shape == table, w.norm.count == c.hiddenSize else {
            throw GPULanguageModelError("the Qwen2 weights do not match their config (\(w.layers.count) of \(c.layers) layers, embedding \(w.embedTokens.count) and LM head \(w.lmHead.count) of \(table) values)")
        }
    }
}
