import Foundation
import Ops

/// A model folder described by the architecture's weight structs: either layout, any size.
/// The FastViTHD geometry comes from the tensors' names and shapes, not from config keys.
/// Matrices stay in the memory-mapped checkpoint until a backend reads them; only the small
/// vectors (norms, biases, layer scales, BatchNorm-folded depthwise kernels) are read now.
public struct LoadedModel {
    public let folder: URL
    public let config: ModelConfig
    public let weights: FastVLMWeights

    public init(folder: URL) throws {
        self.folder = folder
        config = try ModelConfig(folder: folder)
        let store = try TensorStore(folder: folder)
        let tensors = try CanonicalTensors(store: store, layout: config.layout)
        let vision = try tensors.fastViTHD(imageSize: config.imageSize)
        let projector = try tensors.projector(visionChannels: vision.outChannels, hidden: config.text.hiddenSize)
        let language = try tensors.qwen2(config.text, tied: config.tiedEmbeddings)
        weights = FastVLMWeights(vision: vision, projector: projector, language: language)
    }
}

/// Tensors under canonical (transformers-native) names.
struct CanonicalTensors {
    let store: TensorStore
    private var names: [String: String] = [:]   // canonical -> stored

    init(store: TensorStore, layout: CheckpointLayout) throws {
        self.store = store
        for name in store.entries.keys {
            switch layout {
            case .huggingFace: names[name] = name
            case .apple: if let c = CheckpointNames.canonical(apple: name) { names[c] = name }
            }
        }
    }

    func has(_ name: String) -> Bool { names[name] != nil }

    func entry(_ name: String) throws -> TensorEntry {
        guard let stored = names[name] else { throw CheckpointError("\(store.folder.lastPathComponent): missing tensor \(name)") }
        return try store.entry(stored)
    }

    func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        try tensor(name, shape: shape).floats()
    }

    func tensor(_ name: String, shape: [Int]? = nil) throws -> WeightTensor {
        let e = try entry(name)
        if let shape, e.shape != shape {
            throw CheckpointError("\(e.file.url.lastPathComponent): tensor \(e.name) has shape \(e.shape), expected \(shape)")
        }
        guard e.dtype != .i64 else { throw CheckpointError("\(e.file.url.lastPathComponent): tensor \(e.name) is I64, expected a floating-point tensor") }
        return WeightTensor(mapped: e)
    }

    /// Largest index N such that names with `prefix` + N + "." exist, plus one.
    func count(_ prefix: String) -> Int {
        var n = 0
        while names.keys.contains(where: { $0.hasPrefix(prefix + "\(n).") }) { n += 1 }
        return n
    }

    // MARK: vision

    func conv(_ base: String, inChannels: Int, stride: Int, bias: Bool = true) throws -> ConvWeights {
        let e = try entry(base + ".weight")
        guard e.shape.count == 4, e.shape[2] == e.shape[3], e.shape[1] > 0, inChannels % e.shape[1] == 0 else {
            throw CheckpointError("\(e.file.url.lastPathComponent): tensor \(e.name) has shape \(e.shape), not a conv weight for \(inChannels) input channels")
        }
        let out = e.shape[0]
        let groups = inChannels / e.shape[1]
        guard out % groups == 0 else { throw CheckpointError("\(e.name): \(out) output channels do not split into \(groups) groups") }
        return ConvWeights(weight: try tensor(base + ".weight"), bias: bias ? try floats(base + ".bias", shape: [out]) : nil,
                           outChannels: out, inChannels: inChannels, kernel: e.shape[2], stride: stride, groups: groups)
    }

    func pointwise(_ base: String, inChannels: Int) throws -> LinearWeights {
        let e = try entry(base + ".weight")
        guard (e.shape.count == 4 && e.shape[1] == inChannels && e.shape[2] == 1 && e.shape[3] == 1) || (e.shape.count == 2 && e.shape[1] == inChannels) else {
            throw CheckpointError("\(e.file.url.lastPathComponent): tensor \(e.name) has shape \(e.shape), expected [out, \(inChannels), 1, 1]")
        }
        return LinearWeights(weight: try tensor(base + ".weight"), bias: has(base + ".bias") ? try floats(base + ".bias", shape: [e.shape[0]]) : nil,
                             outFeatures: e.shape[0], inFeatures: inChannels)
    }

    func linear(_ base: String, out: Int, in inFeatures: Int, bias: Bool) throws -> LinearWeights {
        LinearWeights(weight: try tensor(base + ".weight", shape: [out, inFeatures]),
                      bias: bias ? try floats(base + ".bias", shape: [out]) : nil, outFeatures: out, inFeatures: inFeatures)
    }

    func scale(_ name: String, channels: Int) throws -> [Float] {
        let e = try entry(name)
        guard e.count == channels else { throw CheckpointError("\(e.file.url.lastPathComponent): tensor \(e.name) has shape \(e.shape), expected \(channels) values") }
        return try e.floats()
    }

    /// ConvFFN with its BatchNorm folded into the depthwise conv.
    func convFFN(_ base: String, channels c: Int) throws -> FastViTHDWeights.ConvFFN {
        var dw = try conv(base + ".conv.conv", inChannels: c, stride: 1, bias: false)
        let bn = base + ".conv.bn."
        let folded = Reference.foldBatchNorm(weight: try dw.weight.floats(), outChannels: dw.outChannels,
                                             gamma: try floats(bn + "weight", shape: [c]), beta: try floats(bn + "bias", shape: [c]),
                                             mean: try floats(bn + "running_mean", shape: [c]), variance: try floats(bn + "running_var", shape: [c]), eps: 1e-5)
        dw.weight = WeightTensor(name: dw.weight.name + "+bn", shape: dw.weight.shape, values: folded.weight)
        dw.bias = folded.bias
        let fc1 = try pointwise(base + ".fc1", inChannels: c)
        let fc2 = try pointwise(base + ".fc2", inChannels: fc1.outFeatures)
        return .init(depthwise: dw, fc1: fc1, fc2: fc2)
    }

    func fastViTHD(imageSize: Int) throws -> FastViTHDWeights {
        let v = CheckpointNames.vision
        var stem: [ConvWeights] = []
        stem.append(try conv(v + "stem.0.reparam_conv", inChannels: 3, stride: 2))
        stem.append(try conv(v + "stem.1.reparam_conv", inChannels: stem[0].outChannels, stride: 2))
        stem.append(try conv(v + "stem.2.reparam_conv", inChannels: stem[1].outChannels, stride: 1))
        var channels = stem[2].outChannels
        var stages: [FastViTHDWeights.Stage] = []
        let stageCount = count(v + "stages.")
        guard stageCount > 0 else { throw CheckpointError("\(store.folder.lastPathComponent): no vision stages found (stages.0...)") }
        for s in 0..<stageCount {
            let key = v + "stages.\(s)."
            var down: (conv: ConvWeights, pointwise: ConvWeights)?
            if has(key + "downsample.proj.0.reparam_conv.weight") {
                let large = try conv(key + "downsample.proj.0.reparam_conv", inChannels: channels, stride: 2)
                let point = try conv(key + "downsample.proj.1.reparam_conv", inChannels: large.outChannels, stride: 1)
                down = (large, point)
                channels = point.outChannels
            }
            let pos = has(key + "pos_emb.reparam_conv.weight") ? try conv(key + "pos_emb.reparam_conv", inChannels: channels, stride: 1) : nil
            var blocks: [FastViTHDWeights.Block] = []
            for b in 0..<count(key + "blocks.") {
                let bk = key + "blocks.\(b)."
                if has(bk + "token_mixer.qkv.weight") {
                    guard channels % FastViTHDWeights.AttentionBlock.headDim == 0 else {
                        throw CheckpointError("\(bk)token_mixer: width \(channels) is not a multiple of head_dim 32")
                    }
                    blocks.append(.attention(.init(
                        norm: NormWeights(weight: try floats(bk + "norm.weight", shape: [channels]), bias: try floats(bk + "norm.bias", shape: [channels])),
                        qkv: try linear(bk + "token_mixer.qkv", out: 3 * channels, in: channels, bias: false),
                        proj: try linear(bk + "token_mixer.proj", out: channels, in: channels, bias: true),
                        layerScale1: try scale(bk + "layer_scale_1.gamma", channels: channels),
                        ffn: try convFFN(bk + "mlp", channels: channels),
                        layerScale2: try scale(bk + "layer_scale_2.gamma", channels: channels))))
                } else {
                    blocks.append(.repMixer(.init(
                        mixer: try conv(bk + "token_mixer.reparam_conv", inChannels: channels, stride: 1),
                        ffn: try convFFN(bk + "mlp", channels: channels),
                        layerScale: try scale(bk + "layer_scale.gamma", channels: channels))))
                }
            }
            stages.append(.init(downsample: down, positionEmbedding: pos, blocks: blocks))
        }
        let convExp = try conv(v + "final_conv.reparam_conv", inChannels: channels, stride: 1)
        let reduce = try pointwise(v + "final_conv.se.fc1", inChannels: convExp.outChannels)
        let expand = try pointwise(v + "final_conv.se.fc2", inChannels: reduce.outFeatures)
        return FastViTHDWeights(stem: stem, stages: stages, convExp: convExp, seReduce: reduce, seExpand: expand, imageSize: imageSize)
    }

    func projector(visionChannels: Int, hidden: Int) throws -> ProjectorWeights {
        let p = CheckpointNames.projector
        return ProjectorWeights(fc1: try linear(p + "linear_1", out: hidden, in: visionChannels, bias: true),
                                fc2: try linear(p + "linear_2", out: hidden, in: hidden, bias: true))
    }

    func qwen2(_ c: Qwen2Config, tied: Bool) throws -> Qwen2Weights {
        let l = CheckpointNames.language
        let (h, q, kv, i) = (c.hiddenSize, c.heads * c.headDim, c.kvHeads * c.headDim, c.intermediateSize)
        let embed = try entry(l + "embed_tokens.weight")
        guard embed.shape.count == 2, embed.shape[1] == h else {
            throw CheckpointError("\(embed.file.url.lastPathComponent): tensor \(embed.name) has shape \(embed.shape), expected [vocab, \(h)]")
        }
        var config = c
        config.vocabSize = embed.shape[0]
        var layers: [Qwen2Weights.Layer] = []
        for n in 0..<c.layers {
            let k = l + "layers.\(n)."
            layers.append(.init(
                inputNorm: try floats(k + "input_layernorm.weight", shape: [h]),
                q: try linear(k + "self_attn.q_proj", out: q, in: h, bias: true),
                k: try linear(k + "self_attn.k_proj", out: kv, in: h, bias: true),
                v: try linear(k + "self_attn.v_proj", out: kv, in: h, bias: true),
                o: try linear(k + "self_attn.o_proj", out: h, in: q, bias: false),
                postAttentionNorm: try floats(k + "post_attention_layernorm.weight", shape: [h]),
                gate: try linear(k + "mlp.gate_proj", out: i, in: h, bias: false),
                up: try linear(k + "mlp.up_proj", out: i, in: h, bias: false),
                down: try linear(k + "mlp.down_proj", out: h, in: i, bias: false)))
        }
        let embedding = try tensor(l + "embed_tokens.weight")
        // HF-native small models omit lm_head; Apple stores it even when its config says tied
        // (the embedding's values again). transformers ties only a head with the embedding's
        // values, so a stored head of other values is used, whatever the config says.
        var head = embedding
        if has("lm_head.weight") {
            let stored = try tensor("lm_head.weight", shape: embed.shape)
            if try !(tied && stored.hasSameValues(as: embedding)) { head = stored }
        }
        return Qwen2Weights(config: config, embedTokens: embedding, layers: layers, norm: try floats(l + "norm.weight", shape: [h]), lmHead: head)
    }
}
