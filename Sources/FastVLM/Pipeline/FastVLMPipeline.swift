import Foundation
import Ops
import VulkanCore

/// Where the model runs and how.
public struct RuntimeOptions: Sendable {
    public enum Backend: String, Sendable, CaseIterable { case cpu, gpu }

    public var backend: Backend = .gpu
    /// Format of the weight matrices on the GPU (arithmetic is fp32 either way); `.auto`: the
    /// most accurate that fits the device (`GPUModel.chooseFormat`).
    public var weights: WeightChoice = .auto
    /// Storage of the vision encoder's and projector's activations (arithmetic is fp32 either
    /// way). nil: `defaultActivationType` for the device the pipeline opens.
    public var activationType: StorageType?
    /// Storage of the language model's activation rows and of its KV cache (GPU backend;
    /// fp16 needs shaderFloat16 and 16-bit storage, and is refused on a device without them).
    /// nil: the device's kernel policy (KernelPolicy.decoderActivations / .kvCache).
    public var decoderActivations: StorageType?
    public var kvCache: StorageType?
    /// Per-dispatch GPU timestamps (for `profile`).
    public var profiling = false
    /// Vulkan device index (nil: FASTVLM_DEVICE, else the best device).
    public var deviceIndex: Int?
    /// Kernel family (nil: FASTVLM_KERNELS, else auto: from the device type; see KernelPolicy).
    public var kernels: KernelChoice?
    /// Input side S of the vision encoder, a multiple of 64 ((S/64)^2 image tokens); nil: the
    /// checkpoint's. Preparation, recording and memory planning follow it.
    public var imageSize: Int?
    /// KV-cache positions to allocate (nil: what the request the pipeline is sized for needs,
    /// else `defaultContext`, both capped at the model's context).
    public var contextTokens: Int?
    /// KV caches of `contextTokens` positions allocated beside the model's own, one per request
    /// decoded together (FastVLMEngine's slots): counted in the memory plan before uploading.
    public var decodeSlots = 0
    public static let defaultContext = 4096

    public init() {}

    /// The decoder's activation and KV-cache storage on `device`: these options', else its
    /// kernel policy's; fp16 asked of a device without 16-bit support is refused.
    func decoderStorage(on device: Device) throws -> (activations: StorageType, kvCache: StorageType) {
        let policy = device.kernelPolicy
        let storage = (activations: decoderActivations ?? policy.decoderActivations, kvCache: kvCache ?? policy.kvCache)
        try GPULanguageModel.requireStorage(storage.activations, for: "decoder activations", on: device.capabilities)
        try GPULanguageModel.requireStorage(storage.kvCache, for: "KV caches", on: device.capabilities)
        return storage
    }

    /// KernelPolicy.visionActivations: fp16 wherever the device can store it.
    public static func defaultActivationType(for caps: DeviceCapabilities) -> StorageType {
        KernelPolicy(capabilities: caps).visionActivations
    }

    /// The activation storage to use on a device with `caps`.
    public func activationType(for caps: DeviceCapabilities) -> StorageType {
        activationType ?? Self.defaultActivationType(for: caps)
    }
}

/// A loaded model, its tokenizer and a backend: preprocess -> vision -> projector ->
/// prefill -> decode, all on the CPU reference or all on the GPU.
public final class FastVLMPipeline {
    public let model: LoadedModel
    public let tokenizer: Tokenizer
    public let runtime: RuntimeOptions
    public let loadSeconds: Double
    /// Ids sampling may choose: the tokenizer's ids, without HF's `<image>` or padded rows.
    public let sampleVocabulary: Int
    public let stopTokens: Set<Int>
    public let device: Device?
    /// The device memory the GPU model was planned with (nil on the CPU backend).
    public let memoryPlan: MemoryPlan?
    let encoder: GPUVisionEncoder?
    let language: LanguageSession

    /// KV-cache positions (the longest conversation this pipeline can hold).
    public let contextTokens: Int
    /// The vision encoder's input side and the image rows each prompt carries.
    public let imageSize: Int
    public let imageTokens: Int

    /// - Parameters:
    ///   - sizedFor: a request whose prompt plus --max-tokens sizes the KV cache (one-shot runs);
    ///     without it the cache holds `runtime.contextTokens` or `RuntimeOptions.defaultContext`.
    ///   - progress: told what is loading (for a progress line).
    public init(folder: URL, runtime: RuntimeOptions = RuntimeOptions(), sizedFor request: GenerationRequest? = nil,
                progress: (String) -> Void = { _ in }) throws {
        let start = now()
        progress("reading weights")
        let model = try LoadedModel(folder: folder)
        progress("reading the tokenizer")
        let tokenizer = try Tokenizer(folder: folder)
        var vocab = min(model.weights.language.config.vocabSize, tokenizer.vocabularySize)
        if let image = model.config.imageTokenID, image == vocab - 1 { vocab -= 1 }
        self.model = model
        self.tokenizer = tokenizer
        self.runtime = runtime
        sampleVocabulary = vocab
        stopTokens = Set(model.config.eosTokenIDs + ["<|im_end|>", "<|endoftext|>"].compactMap { tokenizer.id(of: $0) })
        let w = model.weights
        imageSize = runtime.imageSize ?? model.config.imageSize
        try ImageSize.check(imageSize)
        imageTokens = ImageSize.tokens(imageSize)
        let maxPositions = w.language.config.maxPositions
        if let request {
            let needed = try Self.splice(request, model: model, tokenizer: tokenizer, imageTokens: imageTokens).count + request.maxTokens
            guard needed <= maxPositions else {
                throw CheckpointError("the prompt plus --max-tokens \(request.maxTokens) needs \(needed) positions; the model's context is \(maxPositions)")
            }
            contextTokens = runtime.contextTokens.map { max($0, needed) } ?? needed
        } else {
            contextTokens = min(runtime.contextTokens ?? RuntimeOptions.defaultContext, maxPositions)
        }
        switch runtime.backend {
        case .cpu:
            device = nil
            memoryPlan = nil
            encoder = nil
            language = CPULanguageSession(weights: w.language, sampleVocabulary: vocab)
        case .gpu:
            let gpu = try GPUModel(weights: w, runtime: runtime, capacity: contextTokens, sampleVocabulary: vocab, progress: progress)
            device = gpu.device
            memoryPlan = gpu.plan
            encoder = gpu.encoder
            language = gpu.language
        }
        loadSeconds = seconds(since: start)
    }

    /// The first turn's prompt: the chat template with the image rows spliced in.
    public func promptIDs(_ request: GenerationRequest) throws -> SplicedPrompt {
        let prompt = try Self.splice(request, model: model, tokenizer: tokenizer, imageTokens: imageTokens)
        try checkContext(prompt.count, maxTokens: request.maxTokens,
                         what: "the prompt (\(prompt.count) tokens incl. \(imageTokens) image tokens)")
        return prompt
    }

    static func splice(_ request: GenerationRequest, model: LoadedModel, tokenizer: Tokenizer, imageTokens tokens: Int) throws -> SplicedPrompt {
        guard !request.prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CheckpointError("the prompt is empty")
        }
        try ChatPrompt.checkText(request.prompt, what: "prompt")
        try ChatPrompt.checkText(request.system, what: "system prompt")
        // Refuse a text that cannot fit before paying for tokenizing it.
        let least = tokenizer.minimumTokenCount(request.prompt) + tokenizer.minimumTokenCount(request.system) + tokens
        let context = model.weights.language.config.maxPositions
        guard least + request.maxTokens <= context else {
            throw CheckpointError("the prompt is at least \(least) tokens (\(request.prompt.utf8.count) bytes of text and \(tokens) image tokens); with --max-tokens \(request.maxTokens) it cannot fit the model's context of \(context) tokens")
        }
        let chat = ChatPrompt(system: request.system, user: request.prompt)
        switch model.config.layout {
        case .apple:
            return .apple(ids: chat.appleIDs(tokenizer), imageTokens: tokens)
        case .huggingFace:
            let id = model.config.imageTokenID ?? tokenizer.id(of: ChatPrompt.imagePlaceholder) ?? -1
            return .huggingFace(ids: chat.huggingFaceIDs(tokenizer, imageTokenID: id, imageTokens: tokens), imageTokenID: id)
        }
    }

    func checkContext(_ tokens: Int, maxTokens: Int, what: String) throws {
        let used = language.length
        guard used + tokens + maxTokens <= contextTokens else {
            throw CheckpointError("\(what) plus --max-tokens \(maxTokens)\(used > 0 ? " after the \(used) tokens already in the conversation" : "") exceeds the context of \(contextTokens) tokens\(contextTokens < model.weights.language.config.maxPositions ? " this session allocated (--context raises it, up to the model's \(model.weights.language.config.maxPositions))" : "")")
        }
    }

    /// pixel values [3][S][S] from --pixel-values or the image.
    public func pixels(_ request: GenerationRequest) throws -> [Float] {
        let s = imageSize
        if let url = request.pixelValues {
            let array = try NPY.read(url)
            guard array.shape == [1, 3, s, s] || array.shape == [3, s, s] else {
                throw CheckpointError("\(url.lastPathComponent): pixel values have shape \(array.shape), the model needs [1, 3, \(s), \(s)] at image size \(s) (--image-size sets it)")
            }
            return array.values
        }
        guard let url = request.image else { throw CheckpointError("give an image (--image FILE) or pixel values (--pixel-values FILE.npy)") }
        let mode = request.preprocess ?? (model.config.layout == .apple ? .apple : .hf)
        return try Preprocess.pixels(file: url, size: s, mode: mode)
    }

    /// Vision encoder and projector on this pipeline's backend.
    func encodeImage(_ pixels: [Float], timings t: inout Timings, dump: URL?) throws -> ImageRows {
        let w = model.weights
        let (s, n) = (imageSize, imageTokens)
        var start = now()
        let rows: ImageRows
        var features: [Float]? = nil
        if let encoder {
            try encoder.encode(pixels: pixels)
            t.vision = seconds(since: start)
            start = now()
            try encoder.project()
            t.projector = seconds(since: start)
            if encoder.activationType == .f16 { try checkFinite(encoder) }
            rows = .device(encoder.projectedRows, download: encoder.downloadProjected)
            if dump != nil { features = try encoder.downloadFeatures() }
        } else {
            let map = try FastViTHD.forward(w.vision, pixels: HostMap(values: pixels, channels: 3, height: s, width: s), on: CPUVisionBackend())
            t.vision = seconds(since: start)
            start = now()
            rows = .host(try w.projector.forwardCPU(map.values, count: n))
            t.projector = seconds(since: start)
            features = map.values
        }
        if let dump, let features {
            try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
            try NPY.write(pixels, shape: [1, 3, s, s], to: dump.appending(path: "pixel_values.npy"))
            try NPY.write(features, shape: [1, n, w.vision.outChannels], to: dump.appending(path: "vision_features.npy"))
            try NPY.write(try rows.hostValues(), shape: [1, n, w.language.config.hiddenSize], to: dump.appending(path: "projector_out.npy"))
        }
        return rows
    }

    /// fp16 maps hold at most 65504: a tower whose activations grow past that (weights not
    /// trained for it, such as unscaled random ones) gives inf/NaN image rows. Checked once
    /// per image (one small readback) rather than answering from NaN.
    func checkFinite(_ encoder: GPUVisionEncoder) throws {
        guard try encoder.projectedRowsAreFinite() else {
            throw CheckpointError("the vision encoder overflowed fp16 activation storage (its activations exceed 65504); run again with --activations f32")
        }
    }

    /// Runs the whole model, streaming text through `onText`.
    public func generate(_ request: GenerationRequest, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        // One question is the first turn of a conversation.
        try ChatSession(pipeline: self, image: request).ask(request.prompt, onText: onText)
    }

    /// Samples until a stop token or `maxTokens`, streaming text. Returns the tokens and the
    /// stop token that ended them (sampled but not yet fed to the cache), if any. With `forced`
    /// tokens, feeds those instead of the chosen ones and runs for exactly that many steps.
    func decode(from first: Int, maxTokens: Int, sampling: SamplingParameters, forced: [Int]? = nil, rng: inout SplitMix64,
                timings t: inout Timings, onText: (String) -> Void) throws -> (tokens: [Int], stop: Int?) {
        let start = now()
        var next = first
        var generated: [Int] = []
        var stream = StreamingDecoder(tokenizer: tokenizer)
        let limit = forced?.count ?? maxTokens
        while generated.count < limit, forced != nil || !stopTokens.contains(next) {
            generated.append(next)
            onText(stream.append(next))
            if generated.count == limit { break }
            next = try language.decode(forced?[generated.count - 1] ?? next, sampling: sampling, rng: &rng)
        }
        onText(stream.finish())
        t.decode = seconds(since: start)
        t.decodeTokensPerSecond = generated.count > 1 ? Double(generated.count - 1) / max(t.decode, 1e-9) : 0
        return (generated, stopTokens.contains(next) ? next : nil)
    }

    /// The vision encoder's activation storage (nil on the CPU backend).
    public var activationType: StorageType? { encoder?.activationType }

    /// Where and how the model runs, for the user: the device and the storage types.
    public var backendDescription: String {
        guard let device, let encoder else { return "CPU reference (fp32)" }
        let weights = memoryPlan.map { "\($0.format) weights (\(MemoryPlan.mib($0.weights)) MiB)" } ?? "weights"
        let lm = (language as? GPULanguageSession)?.model
        let decoder = lm.map { $0.activations == $0.kvCache ? "\($0.kvCache) decoder rows and KV cache" : "\($0.activations) decoder rows, \($0.kvCache) KV cache" } ?? "CPU decoder"
        return "\(device.capabilities.name), \(weights), \(encoder.activationType) vision activations, \(decoder), \(device.kernelPolicy.kernelClass.rawValue) kernels"
    }

    /// The GPU phases of the last generation, when profiling.
    public var profiles: [PhaseProfile] {
        [encoder?.visionProfile, encoder?.projectorProfile].compactMap { $0 } + language.profiles
    }
}
