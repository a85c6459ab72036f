import Foundation

/// FastVLM with the real geometry of a released size and deterministic random weights, for
/// benchmarking without a download. The numbers come from the spec (sections 1.3, 3, 4): the
/// 1024x1024 FastViTHD encoder, the mlp2x_gelu projector 3072 -> H -> H and Qwen2 of that size
/// with Apple's vocabulary width. There is no tokenizer: prompts are made of fixed ids
/// (`prompt(textTokens:)`) and the output is only good for timing.
public enum SyntheticModel: String, CaseIterable, Sendable {
    case fastVLM0_5B = "synthetic-0.5b"
    case fastVLM1_5B = "synthetic-1.5b"
    case fastVLM7B = "synthetic-7b"

    /// The model a `--model` value names (case-insensitive), nil when it is not a synthetic one.
    public static func parse(_ name: String) -> SyntheticModel? {
        SyntheticModel(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased())
    }

    public var name: String { rawValue }

    /// The released model whose geometry this copies.
    public var releasedModel: String {
        switch self {
        case .fastVLM0_5B: return "apple/FastVLM-0.5B"
        case .fastVLM1_5B: return "apple/FastVLM-1.5B"
        case .fastVLM7B: return "apple/FastVLM-7B"
        }
    }

    public var vision: FastViTHDGeometry { .fastViTHD }
    public var imageSize: Int { vision.imageSize }
    /// Image rows spliced into the prompt (256).
    public var imageTokens: Int { vision.tokenCount }

    /// Qwen2 hyper-parameters of that size (spec section 4, Apple vocabulary widths).
    public var text: Qwen2Config {
        switch self {
        case .fastVLM0_5B: return Self.qwen2(hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, vocab: 151_936)
        case .fastVLM1_5B: return Self.qwen2(hidden: 1536, layers: 28, heads: 12, kvHeads: 2, headDim: 128, intermediate: 8960, vocab: 151_936)
        case .fastVLM7B: return Self.qwen2(hidden: 3584, layers: 28, heads: 28, kvHeads: 4, headDim: 128, intermediate: 18944, vocab: 152_064)
        }
    }

    /// 0.5B and 1.5B use the embedding as the LM head; 7B has its own.
    public var tiedEmbeddings: Bool { self != .fastVLM7B }

    /// Parameters (tied LM head counted once).
    public var parameterCount: Int {
        var tensors = SyntheticTensors(seed: 0)
        _ = SyntheticWeightBuilder.model(vision: vision, text: text, tiedEmbeddings: tiedEmbeddings, &tensors)
        return tensors.parameters
    }

    /// The weights as generated tensors: values are produced piece by piece while they are
    /// uploaded, so any size can be described on any machine. The same seed gives the same
    /// values on every machine and with any number of threads.
    public func weights(seed: UInt64 = 0) -> FastVLMWeights {
        var tensors = SyntheticTensors(seed: seed)
        return SyntheticWeightBuilder.model(vision: vision, text: text, tiedEmbeddings: tiedEmbeddings, &tensors)
    }

    static func qwen2(hidden: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int, intermediate: Int, vocab: Int) -> Qwen2Config {
        Qwen2Config(hiddenSize: hidden, layers: layers, heads: heads, kvHeads: kvHeads, headDim: headDim,
                    intermediateSize: intermediate, vocabSize: vocab, realVocabSize: vocab,
                    ropeTheta: 1_000_000, rmsNormEps: 1e-6, maxPositions: 32768)
    }
}

/// Synthetic weights of any geometry (down-scaled ones keep tests fast).
public enum SyntheticWeights {
    public static func build(vision: FastViTHDGeometry, text: Qwen2Config, tiedEmbeddings: Bool, seed: UInt64 = 0) -> FastVLMWeights {
        var tensors = SyntheticTensors(seed: seed)
        return SyntheticWeightBuilder.model(vision: vision, text: text, tiedEmbeddings: tiedEmbeddings, &tensors)
    }

    public static func parameterCount(vision: FastViTHDGeometry, text: Qwen2Config, tiedEmbeddings: Bool) -> Int {
        var tensors = SyntheticTensors(seed: 0)
        _ = SyntheticWeightBuilder.model(vision: vision, text: text, tiedEmbeddings: tiedEmbeddings, &tensors)
        return tensors.parameters
    }
}
