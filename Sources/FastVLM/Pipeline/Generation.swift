import Dispatch
import Foundation
import Ops

/// What the user asked for.
public struct GenerationRequest: Sendable {
    public var prompt: String
    public var system: String = ChatPrompt.defaultSystem
    public var image: URL?
    public var pixelValues: URL?
    public var preprocess: PreprocessMode?
    public var maxTokens: Int = 256
    public var sampling = SamplingParameters()
    public var dump: URL?

    public init(prompt: String) { self.prompt = prompt }
}

/// Seconds spent in each part; TTFT = preprocess + vision + projector + prefill (incl. the first sample).
public struct Timings: Codable, Sendable {
    public var load = 0.0
    public var preprocess = 0.0
    public var vision = 0.0
    public var projector = 0.0
    public var prefill = 0.0
    public var ttft = 0.0
    public var decode = 0.0
    public var decodeTokensPerSecond = 0.0

    enum CodingKeys: String, CodingKey {
        case load, preprocess, vision, projector, prefill, ttft, decode
        case decodeTokensPerSecond = "decode_tokens_per_second"
    }
}

public struct GenerationResult: Sendable {
    public var text: String
    public var tokenIDs: [Int]
    public var promptTokens: Int
    public var timings: Timings
}

func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

/// A loaded model, its tokenizer and the CPU reference backend: preprocess -> vision ->
/// projector -> prefill -> decode.
public final class FastVLMPipeline {
    public let model: LoadedModel
    public let tokenizer: Tokenizer
    public let loadSeconds: Double
    /// Ids sampling may choose: the tokenizer's ids, without HF's `<image>` or padded rows.
    public let sampleVocabulary: Int
    public let stopTokens: Set<Int>

    public init(folder: URL) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let model = try LoadedModel(folder: folder)
        let tokenizer = try Tokenizer(folder: folder)
        var vocab = min(model.weights.language.config.vocabSize, tokenizer.vocabularySize)
        if let image = model.config.imageTokenID, image == vocab - 1 { vocab -= 1 }
        self.model = model
        self.tokenizer = tokenizer
        sampleVocabulary = vocab
        stopTokens = Set(model.config.eosTokenIDs + ["<|im_end|>", "<|endoftext|>"].compactMap { tokenizer.id(of: $0) })
        loadSeconds = seconds(since: start)
    }

    public func promptIDs(_ request: GenerationRequest) throws -> SplicedPrompt {
        guard !request.prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CheckpointError("the prompt is empty")
        }
        let chat = ChatPrompt(system: request.system, user: request.prompt)
        let tokens = model.weights.vision.tokenCount
        let prompt: SplicedPrompt
        switch model.config.layout {
        case .apple:
            prompt = .apple(ids: chat.appleIDs(tokenizer), imageTokens: tokens)
        case .huggingFace:
            let id = model.config.imageTokenID ?? tokenizer.id(of: ChatPrompt.imagePlaceholder) ?? -1
            prompt = .huggingFace(ids: chat.huggingFaceIDs(tokenizer, imageTokenID: id, imageTokens: tokens), imageTokenID: id)
        }
        let context = model.weights.language.config.maxPositions
        guard prompt.count + request.maxTokens <= context else {
            throw CheckpointError("the prompt (\(prompt.count) tokens incl. \(tokens) image tokens) plus --max-tokens \(request.maxTokens) exceeds the model's context of \(context) tokens")
        }
        return prompt
    }

    /// pixel values [3][S][S] from --pixel-values or the image.
    public func pixels(_ request: GenerationRequest) throws -> [Float] {
        let s = model.config.imageSize
        if let url = request.pixelValues {
            let array = try NPY.read(url)
            guard array.shape == [1, 3, s, s] || array.shape == [3, s, s] else {
                throw CheckpointError("\(url.lastPathComponent): pixel values have shape \(array.shape), the model needs [1, 3, \(s), \(s)]")
            }
            return array.values
        }
        guard let url = request.image else { throw CheckpointError("give an image (--image FILE) or pixel values (--pixel-values FILE.npy)") }
        let mode = request.preprocess ?? (model.config.layout == .apple ? .apple : .hf)
        return Preprocess.pixels(try ImageFile.load(url), size: s, mode: mode)
    }

    /// Runs the whole model on the CPU, streaming text through `onText`.
    public func generate(_ request: GenerationRequest, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        var t = Timings()
        t.load = loadSeconds
        let prompt = try promptIDs(request)
        var start = DispatchTime.now().uptimeNanoseconds
        let pixelValues = try pixels(request)
        t.preprocess = seconds(since: start)
        let s = model.config.imageSize
        let w = model.weights

        start = DispatchTime.now().uptimeNanoseconds
        let features = try FastViTHD.forward(w.vision, pixels: HostMap(values: pixelValues, channels: 3, height: s, width: s), on: CPUVisionBackend())
        t.vision = seconds(since: start)
        start = DispatchTime.now().uptimeNanoseconds
        let projected = w.projector.forwardCPU(features.values, count: features.height)
        t.projector = seconds(since: start)

        start = DispatchTime.now().uptimeNanoseconds
        let backend = CPULanguageBackend(config: w.language.config)
        let h = w.language.config.hiddenSize
        let rows = try w.language.embed(prompt, image: projected)
        var logits = try Qwen2.forward(w.language, embeddings: HostRows(values: rows, rows: prompt.count, width: h), on: backend).values
        if let dump = request.dump {
            try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
            try NPY.write(pixelValues, shape: [1, 3, s, s], to: dump.appending(path: "pixel_values.npy"))
            try NPY.write(features.values, shape: [1, features.height, features.channels], to: dump.appending(path: "vision_features.npy"))
            try NPY.write(projected, shape: [1, features.height, h], to: dump.appending(path: "projector_out.npy"))
            try NPY.write(logits, shape: [logits.count], to: dump.appending(path: "logits_last.npy"))
        }
        var rng = SplitMix64(seed: request.sampling.seed)
        var next = Reference.sample(logits, count: sampleVocabulary, parameters: request.sampling, rng: &rng)
        t.prefill = seconds(since: start)
        t.ttft = t.preprocess + t.vision + t.projector + t.prefill

        start = DispatchTime.now().uptimeNanoseconds
        var generated: [Int] = []
        var stream = StreamingDecoder(tokenizer: tokenizer)
        while generated.count < request.maxTokens, !stopTokens.contains(next) {
            generated.append(next)
            onText(stream.append(next))
            if generated.count == request.maxTokens { break }
            let row = Array(w.language.embedTokens[next * h..<(next + 1) * h])
            logits = try Qwen2.forward(w.language, embeddings: HostRows(values: row, rows: 1, width: h), on: backend).values
            next = Reference.sample(logits, count: sampleVocabulary, parameters: request.sampling, rng: &rng)
        }
        onText(stream.finish())
        t.decode = seconds(since: start)
        t.decodeTokensPerSecond = generated.count > 1 ? Double(generated.count - 1) / max(t.decode, 1e-9) : 0
        let text = tokenizer.decode(generated, skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines)
        return GenerationResult(text: text, tokenIDs: generated, promptTokens: prompt.count, timings: t)
    }
}
