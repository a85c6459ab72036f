import Ops
import VulkanCore

/// The projected image rows as a language model takes them: on the host (CPU path) or
/// left on the device by the GPU encoder.
enum ImageRows {
    case host([Float])
    case device(BufferView, download: () throws -> [Float])

    func hostValues() throws -> [Float] {
        switch self {
        case .host(let v): return v
        case .device(_, let download): return try download()
        }
    }
}

/// A conversation's decoder state: the KV cache and the sampler. `prefill` continues after
/// what the cache holds, so later chat turns only run their new tokens.
protocol LanguageSession: AnyObject {
    var length: Int { get }
    func reset()
    /// Forgets every position from `length` on (a failed chat turn is rolled back this way).
    func truncate(to length: Int) throws
    func prefill(_ prompt: SplicedPrompt, image: ImageRows?, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int
    func decode(_ token: Int, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int
    func lastLogits() throws -> [Float]
    var profiles: [PhaseProfile] { get }
}

/// The fp32 CPU reference decoder behind `LanguageSession`.
final class CPULanguageSession: LanguageSession {
    let weights: Qwen2Weights
    let sampleVocabulary: Int
    private let backend: CPULanguageBackend
    private var logits: [Float] = []

    init(weights: Qwen2Weights, sampleVocabulary: Int) {
        self.weights = weights
        self.sampleVocabulary = sampleVocabulary
        backend = CPULanguageBackend(config: weights.config)
    }

    var length: Int { backend.length }
    var profiles: [PhaseProfile] { [] }
    func reset() { backend.reset() }
    func truncate(to length: Int) throws { try backend.truncate(to: length) }

    func prefill(_ prompt: SplicedPrompt, image: ImageRows?, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int {
        let rows = try weights.embed(prompt, image: try image?.hostValues() ?? [])
        logits = try Qwen2.forward(weights, embeddings: HostRows(values: rows, rows: prompt.count, width: weights.config.hiddenSize), on: backend).values
        return Reference.sample(logits, count: sampleVocabulary, parameters: sampling, rng: &rng)
    }

    func decode(_ token: Int, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int {
        let h = weights.config.hiddenSize
        let row = try weights.embedTokens.rows(token..<token + 1)
        logits = try Qwen2.forward(weights, embeddings: HostRows(values: row, rows: 1, width: h), on: backend).values
        return Reference.sample(logits, count: sampleVocabulary, parameters: sampling, rng: &rng)
    }

    func lastLogits() throws -> [Float] { logits }
}
