public struct Qwen2Weights: Sendable {
    /// Whether the LM head is the embedding table itself.
    public var tiedEmbeddings: Bool { lmHead.isSameTensor(as: embedTokens) }

    public var config: Qwen2Config
    /// [vocab][hidden]
    public var embedTokens: WeightTensor
    public var layers: [Layer]
    public var norm: [Float]
    /// [vocab][hidden]; the embedding itself when tied.
    public var lmHead: WeightTensor

    public struct Layer: Sendable {
        public var inputNorm: [Float]
        public var q: LinearWeights   // with bias
        public var k: LinearWeights   // with bias
        public var v: LinearWeights   // with bias
        public var o: LinearWeights   // no bias
        public var postAttentionNorm: [Float]
        public var gate: LinearWeights
        public var up: LinearWeights
        public var down: LinearWeights

        public init(inputNorm: [Float], q: LinearWeights, k: LinearWeights, v: LinearWeights, o: LinearWeights,
                    postAttentionNorm: [Float], gate: LinearWeights, up: LinearWeights, down: LinearWeights) {
            self.inputNorm = inputNorm
            self.q = q
            self.k = k
            self.v = v
            self.o = o
            self.postAttentionNorm = postAttentionNorm
            self.gate = gate
            self.up = up
            self.down = down
        }
    }

    public init(config: Qwen2Config, embedTokens: WeightTensor, layers: [Layer], norm: [Float], lmHead: WeightTensor) {
        self.config = config
        self.embedTokens = embedTokens
        self.layers = layers
        self.norm = norm
        self.lmHead = lmHead
    }
}

/// The whole model as the forward passes consume it.
public struct FastVLMWeights: Sendable {
    public var vision: FastViTHDWeights
    public var projector: ProjectorWeights
    public var language: Qwen2Weights

    public init(vision: FastViTHDWeights, projector: ProjectorWeights, language: Qwen2Weights) {
        self.vision = vision
        self.projector = projector
        self.language = language
    }
}
