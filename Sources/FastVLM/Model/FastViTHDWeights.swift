/// FastViTHD (spec section 1) in inference form. Every size comes from the checkpoint.
public struct FastViTHDWeights: Sendable {
    /// conv3x3 s2 (3 -> C0), depthwise conv3x3 s2, conv1x1; each followed by GELU.
    public var stem: [ConvWeights]
    public var stages: [Stage]
    /// conv_exp: grouped conv3x3 (channel multiplier 2), then squeeze-excite, then GELU.
    public var convExp: ConvWeights
    public var seReduce: LinearWeights
    public var seExpand: LinearWeights
    public var imageSize: Int

    public struct Stage: Sendable {
        /// PatchEmbed: GELU(grouped 7x7 s2, multiplier 2) then GELU(conv1x1).
        public var downsample: (conv: ConvWeights, pointwise: ConvWeights)?
        /// RepCPE: depthwise 7x7 with the identity folded in (no residual around it).
        public var positionEmbedding: ConvWeights?
        public var blocks: [Block]

        public init(downsample: (conv: ConvWeights, pointwise: ConvWeights)?, positionEmbedding: ConvWeights?, blocks: [Block]) {
            self.downsample = downsample
            self.positionEmbedding = positionEmbedding
            self.blocks = blocks
        }
    }

    public enum Block: Sendable {
        case repMixer(RepMixerBlock)
        case attention(AttentionBlock)
    }

    /// x = dwconv3x3(x) (identity folded in); x = x + gamma * ConvFFN(x).
    public struct RepMixerBlock: Sendable {
        public var mixer: ConvWeights
        public var ffn: ConvFFN
        public var layerScale: [Float]

        public init(mixer: ConvWeights, ffn: ConvFFN, layerScale: [Float]) {
            self.mixer = mixer
            self.ffn = ffn
            self.layerScale = layerScale
        }
    }

    /// x = x + gamma1 * MHSA(LN(x)); x = x + gamma2 * ConvFFN(x).
    public struct AttentionBlock: Sendable {
        public var norm: NormWeights
        public var qkv: LinearWeights
        public var proj: LinearWeights
        public var layerScale1: [Float]
        public var ffn: ConvFFN
        public var layerScale2: [Float]
        public static let headDim = 32

        public init(norm: NormWeights, qkv: LinearWeights, proj: LinearWeights, layerScale1: [Float], ffn: ConvFFN, layerScale2: [Float]) {
            self.norm = norm
            self.qkv = qkv
            self.proj = proj
            self.layerScale1 = layerScale1
            self.ffn = ffn
            self.layerScale2 = layerScale2
        }
    }

    /// dwconv7x7 (BatchNorm folded in, so it has a bias) -> fc1 -> GELU -> fc2.
    public struct ConvFFN: Sendable {
        public var depthwise: ConvWeights
        public var fc1: LinearWeights
        public var fc2: LinearWeights

        public init(depthwise: ConvWeights, fc1: LinearWeights, fc2: LinearWeights) {
            self.depthwise = depthwise
            self.fc1 = fc1
            self.fc2 = fc2
        }
    }

    public init(stem: [ConvWeights], stages: [Stage], convExp: ConvWeights, seReduce: LinearWeights, seExpand: LinearWeights, imageSize: Int) {
        self.stem = stem
        self.stages = stages
        self.convExp = convExp
        self.seReduce = seReduce
        self.seExpand = seExpand
        self.imageSize = imageSize
    }

    /// Channels of the final feature map (3072 for the released models).
    public var outChannels: Int { convExp.outChannels }
    /// Image tokens: (S / 64)^2.
    public var tokenCount: Int { let side = imageSize / 64; return side * side }
}

/// mlp2x_gelu: Linear(C -> H) -> GELU -> Linear(H -> H).
public struct ProjectorWeights: Sendable {
    public var fc1: LinearWeights
    public var fc2: LinearWeights

    public init(fc1: LinearWeights, fc2: LinearWeights) {
        self.fc1 = fc1
        self.fc2 = fc2
    }
}
