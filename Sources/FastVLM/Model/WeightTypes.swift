/// Weights as the architecture code uses them, in PyTorch layouts, already mapped from either
/// checkpoint layout and with ConvFFN's BatchNorm folded: matrices are `WeightTensor`s
/// (described, read when used), the small per-channel vectors host fp32 arrays.

/// A convolution: weight OIHW [out][in/groups][k][k], optional bias.
public struct ConvWeights: Sendable {
    public var weight: WeightTensor
    public var bias: [Float]?
    public var outChannels: Int
    public var inChannels: Int
    public var kernel: Int
    public var stride: Int
    public var groups: Int

    public init(weight: WeightTensor, bias: [Float]?, outChannels: Int, inChannels: Int, kernel: Int, stride: Int, groups: Int) {
        self.weight = weight
        self.bias = bias
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        self.stride = stride
        self.groups = groups
    }
}

/// A linear layer: weight [out][in] (a 1x1 conv's OIHW weight is the same array), optional bias.
public struct LinearWeights: Sendable {
    public var weight: WeightTensor
    public var bias: [Float]?
    public var outFeatures: Int
    public var inFeatures: Int

    public init(weight: WeightTensor, bias: [Float]?, outFeatures: Int, inFeatures: Int) {
        self.weight = weight
        self.bias = bias
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
    }
}

/// Per-channel affine of a normalisation layer.
public struct NormWeights: Sendable {
    public var weight: [Float]
    public var bias: [Float]?

    public init(weight: [Float], bias: [Float]?) {
        self.weight = weight
        self.bias = bias
    }
}
