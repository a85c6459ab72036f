/// Qwen2 hyper-parameters (spec section 4), read from the checkpoint's config.
public struct Qwen2Config: Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var intermediateSize: Int
    public var vocabSize: Int          // rows of the embedding / LM head (HF pads it)
    public var realVocabSize: Int      // ids the tokenizer can produce; sampling ignores the padding
    public var ropeTheta: Float
    public var rmsNormEps: Float
    public var maxPositions: Int

    public init(hiddenSize: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int, intermediateSize: Int, vocabSize: Int,
                realVocabSize: Int, ropeTheta: Float, rmsNormEps: Float, maxPositions: Int) {
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.realVocabSize = realVocabSize
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.maxPositions = maxPositions
    }
}
