/// Builds weight structs of a given geometry from `SyntheticTensors`, with scales that keep
/// activations finite and of order one through the whole network:
/// * weights ~ gain / sqrt(fan_in) (gain 1.6 before a GELU, sqrt 2 before a ReLU), biases std 0.02;
/// * the fused RepMixer and RepCPE convs are the identity plus a little noise, as in a trained
///   checkpoint where the identity is folded in (spec 1.4);
/// * layer scales 1e-2, norm weights 1 and biases 0;
/// * Qwen2 residual projections (o_proj, down_proj) are scaled by 1/sqrt(2 * layers), so the
///   residual stream grows only slowly; embeddings std 0.02.
/// Measured on synthetic-0.5b (CPU reference, 1024x1024 synthetic pixels): every vision op's
/// output has rms 0.4..3.6 (max |x| < 50), projector rms 1.9, last-position logits rms 0.6.
enum SyntheticWeightBuilder {
    static let layerScale: Float = 1e-2
    /// In front of a GELU: keeps the root mean square of order one through FastViTHD's chain of
    /// stem and downsample convs (sqrt 2, right for ReLU, lets it fade; 2 lets it explode).
    static let gain: Float = 1.6
    /// In front of the squeeze-excite ReLU.
    static let reluGain = Float(2).squareRoot()
    /// Noise on top of the folded identity of RepMixer / RepCPE convs (relative to 1/sqrt(fan_in)).
    static let identityNoise: Float = 0.1

    // MARK: FastViTHD

    static func vision(_ g: FastViTHDGeometry, _ t: inout SyntheticTensors) -> FastViTHDWeights {
        typealias G = FastViTHDGeometry
        let c0 = g.stemWidth
        let stem = [
            conv(out: c0, in: 3, kernel: G.stemKernel, stride: 2, groups: 1, gain: gain, &t),
            conv(out: c0, in: c0, kernel: G.stemKernel, stride: 2, groups: c0, gain: gain, &t),
            conv(out: c0, in: c0, kernel: 1, stride: 1, groups: 1, gain: gain, &t),
        ]
        var stages: [FastViTHDWeights.Stage] = []
        var channels = c0
        for s in 0..<g.stageCount {
            let width = g.widths[s]
            var downsample: (conv: ConvWeights, pointwise: ConvWeights)?
            if s > 0 {
                let large = conv(out: width, in: channels, kernel: G.downsampleKernel, stride: 2, groups: channels, gain: gain, &t)
                downsample = (large, conv(out: width, in: width, kernel: 1, stride: 1, groups: 1, gain: gain, &t))
                channels = width
            }
            let attention = g.usesAttention(stage: s)
            let position = attention ? identityConv(channels: width, kernel: G.positionKernel, &t) : nil
            var blocks: [FastViTHDWeights.Block] = []
            for _ in 0..<g.depths[s] {
                if attention {
                    let norm = NormWeights(weight: t.constant(width, 1), bias: t.constant(width, 0))
                    let qkv = LinearWeights(weight: t.weight([3 * width, width], fanIn: width), bias: nil, outFeatures: 3 * width, inFeatures: width)
                    let proj = linear(out: width, in: width, bias: true, &t)
                    let scale1 = t.constant(width, layerScale)
                    let ffn = convFFN(width, ratio: g.mlpRatio, &t)
                    blocks.append(.attention(.init(norm: norm, qkv: qkv, proj: proj, layerScale1: scale1, ffn: ffn,
                                                   layerScale2: t.constant(width, layerScale))))
                } else {
                    let mixer = identityConv(channels: width, kernel: G.mixerKernel, &t)
                    let ffn = convFFN(width, ratio: g.mlpRatio, &t)
                    blocks.append(.repMixer(.init(mixer: mixer, ffn: ffn, layerScale: t.constant(width, layerScale))))
                }
            }
            stages.append(.init(downsample: downsample, positionEmbedding: position, blocks: blocks))
        }
        // The squeeze-excite gate sits near sigmoid(0) = 0.5 before the GELU: twice the gain.
        let convExp = conv(out: g.outChannels, in: channels, kernel: G.convExpKernel, stride: 1, groups: channels, gain: 2 * gain, &t)
        let reduce = linear(out: g.seWidth, in: g.outChannels, bias: true, gain: reluGain, &t)
        let expand = linear(out: g.outChannels, in: g.seWidth, bias: true, &t)
        return FastViTHDWeights(stem: stem, stages: stages, convExp: convExp, seReduce: reduce, seExpand: expand, imageSize: g.imageSize)
    }

    /// dwconv7x7 (BatchNorm folded, so with bias) -> fc1 (GELU) -> fc2.
    static func convFFN(_ c: Int, ratio: Int, _ t: inout SyntheticTensors) -> FastViTHDWeights.ConvFFN {
        let depthwise = conv(out: c, in: c, kernel: FastViTHDGeometry.ffnKernel, stride: 1, groups: c, gain: 1, &t)
        let fc1 = linear(out: ratio * c, in: c, bias: true, gain: gain, &t)
        return .init(depthwise: depthwise, fc1: fc1, fc2: linear(out: c, in: ratio * c, bias: true, &t))
    }

    static func conv(out: Int, in inChannels: Int, kernel: Int, stride: Int, groups: Int, gain: Float,
                     _ t: inout SyntheticTensors) -> ConvWeights {
        let fanIn = inChannels / groups * kernel * kernel
        return ConvWeights(weight: t.weight([out, inChannels / groups, kernel, kernel], fanIn: fanIn, gain: gain), bias: t.bias(out),
                           outChannels: out, inChannels: inChannels, kernel: kernel, stride: stride, groups: groups)
    }

    /// A depthwise conv that is the identity plus small noise (fused RepMixer / RepCPE).
    static func identityConv(channels c: Int, kernel k: Int, _ t: inout SyntheticTensors) -> ConvWeights {
        var weight = t.random(c * k * k, std: identityNoise / Float(k))
        let centre = (k / 2) * k + k / 2
        for channel in 0..<c { weight[channel * k * k + centre] += 1 }
        return ConvWeights(weight: WeightTensor(name: "synthetic.identity", shape: [c, 1, k, k], values: weight), bias: t.bias(c), outChannels: c, inChannels: c, kernel: k, stride: 1, groups: c)
    }

    static func linear(out: Int, in inFeatures: Int, bias: Bool, gain: Float = 1, scale: Float = 1,
                       _ t: inout SyntheticTensors) -> LinearWeights {
        LinearWeights(weight: t.weight([out, inFeatures], fanIn: inFeatures, gain: gain * scale), bias: bias ? t.bias(out) : nil,
                      outFeatures: out, inFeatures: inFeatures)
    }

    // MARK: projector and Qwen2

    static func projector(visionChannels: Int, hidden: Int, _ t: inout SyntheticTensors) -> ProjectorWeights {
        ProjectorWeights(fc1: linear(out: hidden, in: visionChannels, bias: true, gain: gain, &t),
                         fc2: linear(out: hidden, in: hidden, bias: true, &t))
    }

    static func language(_ c: Qwen2Config, tiedEmbeddings: Bool, _ t: inout SyntheticTensors) -> Qwen2Weights {
        let (h, q, kv, i) = (c.hiddenSize, c.heads * c.headDim, c.kvHeads * c.headDim, c.intermediateSize)
        let residual = 1 / Float(2 * max(1, c.layers)).squareRoot()
        let embed = t.tensor([c.vocabSize, h], std: 0.02)
        var layers: [Qwen2Weights.Layer] = []
        for _ in 0..<c.layers {
            let inputNorm = t.constant(h, 1)
            let qp = linear(out: q, in: h, bias: true, &t)
            let kp = linear(out: kv, in: h, bias: true, &t)
            let vp = linear(out: kv, in: h, bias: true, &t)
            let op = linear(out: h, in: q, bias: false, scale: residual, &t)
            let postNorm = t.constant(h, 1)
            let gate = linear(out: i, in: h, bias: false, &t)
            let up = linear(out: i, in: h, bias: false, &t)
            let down = linear(out: h, in: i, bias: false, scale: residual, &t)
            layers.append(.init(inputNorm: inputNorm, q: qp, k: kp, v: vp, o: op, postAttentionNorm: postNorm, gate: gate, up: up, down: down))
        }
        let norm = t.constant(h, 1)
        // Tied: the same tensor, so it is uploaded and counted once.
        let head = tiedEmbeddings ? embed : t.weight([c.vocabSize, h], fanIn: h)
        return Qwen2Weights(config: c, embedTokens: embed, layers: layers, norm: norm, lmHead: head)
    }

    static func model(vision g: FastViTHDGeometry, text c: Qwen2Config, tiedEmbeddings: Bool,
                      _ t: inout SyntheticTensors) -> FastVLMWeights {
        let vision = self.vision(g, &t)
        let projector = self.projector(visionChannels: g.outChannels, hidden: c.hiddenSize, &t)
        return FastVLMWeights(vision: vision, projector: projector, language: language(c, tiedEmbeddings: tiedEmbeddings, &t))
    }
}
