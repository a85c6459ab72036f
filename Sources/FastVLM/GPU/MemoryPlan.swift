import Foundation
import Ops
import VulkanCore

/// Device memory the whole model needs, worked out from the weight structs' shapes before
/// anything is allocated: weights in their formats, the KV cache and the activation arenas.
/// A model that does not fit is refused with these figures instead of failing halfway through
/// an upload.
public struct MemoryPlan: Sendable, Equatable {
    public var format: WeightFormat
    public var visionWeights: Int
    public var languageWeights: Int
    public var kvCache: Int
    public var activations: Int

    public var weights: Int { visionWeights + languageWeights }
    public var total: Int { weights + kvCache + activations }

    /// - Parameters:
    ///   - sixteenBit: the 16-bit format for what is not quantized (see `WeightFormats`).
    ///   - imageSize: the encoder's input side; `prefillChunk`: positions per prefill recording.
    ///   - activations: the vision encoder's; `decoder` and `kvCache`: the language model's
    ///     activation and KV-cache storage.
    public static func make(_ w: FastVLMWeights, format: WeightFormat, sixteenBit: WeightFormat, activations act: StorageType,
                            decoder: StorageType = .f32, kvCache: StorageType = .f32,
                            capacity: Int, kvCaches: Int = 1, prefillChunk: Int, imageSize: Int) -> MemoryPlan {
        let vision = WeightFormats.vision(format, sixteenBit: sixteenBit)
        let language = WeightFormats.language(format, sixteenBit: sixteenBit)
        let c = w.language.config
        var languageBytes = matrixBytes(w.language.embedTokens.rows, w.language.embedTokens.cols, language)
        if !w.language.tiedEmbeddings { languageBytes += matrixBytes(w.language.lmHead.rows, w.language.lmHead.cols, language) }
        languageBytes += vectorBytes(w.language.norm.count)
        for l in w.language.layers {
            languageBytes += linearBytes(stacking: [l.q, l.k, l.v], language) + linearBytes(stacking: [l.o], language)
            languageBytes += linearBytes(stacking: [l.gate, l.up], language) + linearBytes(stacking: [l.down], language)
            languageBytes += vectorBytes(l.inputNorm.count) + vectorBytes(l.postAttentionNorm.count)
        }
        // The model's own cache, and one per decode slot when serving (BatchedDecoder).
        let kv = kvCaches * 2 * c.layers * KVCacheBuffers.layerBytes(config: c, capacity: capacity, type: kvCache)
        return MemoryPlan(format: format, visionWeights: visionBytes(w.vision, vision) + linearBytes(stacking: [w.projector.fc1], vision)
                              + linearBytes(stacking: [w.projector.fc2], vision),
                          languageWeights: languageBytes, kvCache: kv,
                          activations: visionActivationBytes(w.vision, act: act, imageSize: imageSize, hidden: c.hiddenSize)
                              + languageActivationBytes(c, chunk: min(prefillChunk, capacity), act: decoder))
    }

    // MARK: weights

    static func vectorBytes(_ count: Int) -> Int { max(4, count * 4) }

    static func matrixBytes(_ rows: Int, _ cols: Int, _ f: WeightFormats) -> Int {
        LinearWeight.deviceBytes(rows: rows, cols: cols, format: f.matrix(cols: cols))
    }

    static func linearBytes(stacking parts: [LinearWeights], _ f: WeightFormats) -> Int {
        let rows = parts.reduce(0) { $0 + $1.outFeatures }
        let biases = parts.reduce(0) { $0 + ($1.bias?.count ?? 0) }
        return matrixBytes(rows, parts[0].inFeatures, f) + (biases > 0 ? vectorBytes(biases) : 0)
    }

    static func convBytes(_ c: ConvWeights, _ f: WeightFormats) -> Int {
        let bias = vectorBytes(c.outChannels)
        if c.kernel == 1 && c.stride == 1 && c.groups == 1 { return matrixBytes(c.outChannels, c.inChannels, f) + bias }
        if c.groups == 1 {
            let padded = (c.outChannels + 7) / 8 * 8
            return c.kernel * c.kernel * c.inChannels * padded * (f.small == .f16 ? 2 : 4) + 4 * padded
        }
        return c.weight.count * 4 + bias
    }

    static func visionBytes(_ v: FastViTHDWeights, _ f: WeightFormats) -> Int {
        func ffn(_ x: FastViTHDWeights.ConvFFN) -> Int {
            convBytes(x.depthwise, f) + linearBytes(stacking: [x.fc1], f) + linearBytes(stacking: [x.fc2], f)
        }
        var bytes = v.stem.reduce(0) { $0 + convBytes($1, f) } + convBytes(v.convExp, f)
        let small = WeightFormats(linear: f.small, fallback: f.small, small: f.small)
        bytes += linearBytes(stacking: [v.seReduce], small) + linearBytes(stacking: [v.seExpand], small)
        for stage in v.stages {
            if let d = stage.downsample { bytes += convBytes(d.conv, f) + convBytes(d.pointwise, f) }
            if let p = stage.positionEmbedding { bytes += convBytes(p, f) }
            for block in stage.blocks {
                switch block {
                case .repMixer(let r):
                    bytes += convBytes(r.mixer, f) + ffn(r.ffn) + vectorBytes(r.layerScale.count)
                case .attention(let a):
                    bytes += 2 * vectorBytes(a.norm.weight.count) + linearBytes(stacking: [a.qkv], f) + linearBytes(stacking: [a.proj], f)
                    bytes += ffn(a.ffn) + vectorBytes(a.layerScale1.count) + vectorBytes(a.layerScale2.count)
                }
            }
        }
        return bytes
    }

    // MARK: activations

    /// The encoder's arena holds at most two of its largest maps at once (a conv's input and
    /// output: the stem's, or a stage's widened ConvFFN map beside the ones it adds to), plus
    /// the input, the tokens and the projector rows; it reserves whole chunks, and one more for
    /// what fragmentation leaves unused. (Measured at 1024 with fp32 maps: 225 MiB reserved
    /// against 320 MiB planned.)
    static func visionActivationBytes(_ v: FastViTHDWeights, act: StorageType, imageSize s: Int, hidden: Int) -> Int {
        let stemWidth = v.stem.first?.outChannels ?? 0
        let widest = v.stages.first.flatMap { stage -> Int? in
            stage.blocks.compactMap { block -> Int? in
                if case .repMixer(let r) = block { return r.ffn.fc1.outFeatures }
                if case .attention(let a) = block { return a.ffn.fc1.outFeatures }
                return nil
            }.max()
        } ?? stemWidth
        let largest = max((s / 2) * (s / 2) * stemWidth, (s / 4) * (s / 4) * widest) * act.size
        let tokens = (s / 64) * (s / 64)
        let maps = 2 * largest + 3 * s * s * 4 + tokens * (v.outChannels * act.size + 2 * hidden * 4)
        let chunk = TensorArena.defaultChunkSize
        return ((maps + chunk - 1) / chunk + 1) * chunk
    }

    /// Up to three prefill recordings (each with its chunk's rows), two decode recordings, the
    /// logits and the sampling scratch (fp32 whatever the decoder's activation storage).
    static func languageActivationBytes(_ c: Qwen2Config, chunk: Int, act: StorageType) -> Int {
        3 * max(1 << 20, chunk * languageBytesPerToken(c, act: act)) + 2 * (4 << 20) + 3 * c.vocabSize * 4
    }

    /// A prefill arena chunk's bytes per position: the rows in `act` storage and the residual
    /// stream's (four hidden rows live at once), which is fp32 whatever `act` is.
    static func languageBytesPerToken(_ c: Qwen2Config, act: StorageType) -> Int {
        (3 * c.intermediateSize + 2 * (c.heads + 2 * c.kvHeads) * c.headDim) * act.size + 4 * c.hiddenSize * 4
    }
}

extension MemoryPlan: CustomStringConvertible {
    public var description: String {
        "\(format): weights \(Self.mib(weights)) MiB (vision \(Self.mib(visionWeights)), language \(Self.mib(languageWeights))), "
            + "KV cache \(Self.mib(kvCache)) MiB, activations \(Self.mib(activations)) MiB, total \(Self.mib(total)) MiB"
    }

    /// Whole MiB, with a decimal below 10 MiB (a tiny model is not "0 MiB").
    static func mib(_ bytes: Int) -> String {
        bytes >= 10 << 20 ? String(bytes >> 20) : String(format: "%.1f", Double(bytes) / 1048576)
    }
}
