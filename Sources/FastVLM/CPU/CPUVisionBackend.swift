import Ops

/// A CHW feature map (or, after `tokens`, rows [tokens][channels]) in host memory.
public struct HostMap {
    public var values: [Float]
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(values: [Float], channels: Int, height: Int, width: Int) {
        self.values = values
        self.channels = channels
        self.height = height
        self.width = width
    }

    var pixels: Int { height * width }
}

/// FastViTHD on the CPU in fp32, straight from the reference ops: the yardstick for the GPU.
public struct CPUVisionBackend: VisionBackend {
    public init() {}

    public func conv(_ x: HostMap, _ w: ConvWeights, key: String, gelu: Bool) throws -> HostMap {
        try check(x.channels == w.inChannels, "\(key): input has \(x.channels) channels, the conv expects \(w.inChannels)")
        var y = Reference.conv2d(x.values, channels: x.channels, height: x.height, width: x.width, weight: try w.weight.floats(),
                                 outChannels: w.outChannels, kernel: w.kernel, stride: w.stride, groups: w.groups, bias: w.bias)
        if gelu { y = y.map(Reference.gelu) }
        return HostMap(values: y, channels: w.outChannels,
                       height: Reference.convOutputSize(x.height, kernel: w.kernel, stride: w.stride),
                       width: Reference.convOutputSize(x.width, kernel: w.kernel, stride: w.stride))
    }

    public func pointwise(_ x: HostMap, _ w: LinearWeights, key: String, gelu: Bool, scale: [Float]?, residual: HostMap?) throws -> HostMap {
        try check(x.channels == w.inFeatures, "\(key): input has \(x.channels) channels, the layer expects \(w.inFeatures)")
        var y = Reference.conv1x1(x: x.values, channels: x.channels, pixels: x.pixels, weight: try w.weight.floats(), outChannels: w.outFeatures, bias: w.bias)
        if gelu { y = y.map(Reference.gelu) }
        let p = x.pixels
        if let scale { for c in 0..<w.outFeatures { for i in 0..<p { y[c * p + i] *= scale[c] } } }
        if let residual { for i in y.indices { y[i] += residual.values[i] } }
        return HostMap(values: y, channels: w.outFeatures, height: x.height, width: x.width)
    }

    public func layerNormChannels(_ x: HostMap, _ norm: NormWeights, key: String) throws -> HostMap {
        var y = x
        y.values = Reference.layerNormChannels(x.values, channels: x.channels, height: x.height, width: x.width,
                                               gamma: norm.weight, beta: norm.bias ?? [Float](repeating: 0, count: x.channels), eps: 1e-5)
        return y
    }

    public func attention(_ x: HostMap, qkv: LinearWeights, proj: LinearWeights, key: String, scale: [Float], residual: HostMap) throws -> HostMap {
        let c = x.channels, n = x.pixels
        let tokens = Reference.transpose(x.values, rows: c, cols: n)
        let out = Reference.visionAttention(tokens: tokens, count: n, channels: c, qkvWeight: try qkv.weight.floats(), projWeight: try proj.weight.floats(),
                                            projBias: proj.bias, headDim: FastViTHDWeights.AttentionBlock.headDim)
        let mapped = Reference.transpose(out, rows: n, cols: c)
        var y = residual
        for ch in 0..<c { for i in 0..<n { y.values[ch * n + i] += scale[ch] * mapped[ch * n + i] } }
        return y
    }

    public func squeezeExciteGELU(_ x: HostMap, reduce: LinearWeights, expand: LinearWeights, key: String) throws -> HostMap {
        var y = x
        y.values = Reference.squeezeExcite(x.values, channels: x.channels, pixels: x.pixels, reduceWeight: try reduce.weight.floats(),
                                           reduceBias: reduce.bias ?? [Float](repeating: 0, count: reduce.outFeatures), reduced: reduce.outFeatures,
                                           expandWeight: try expand.weight.floats(), expandBias: expand.bias ?? [Float](repeating: 0, count: x.channels)).map(Reference.gelu)
        return y
    }

    /// [C, H, W] -> rows [H*W][C].
    public func tokens(_ x: HostMap) throws -> HostMap {
        HostMap(values: Reference.transpose(x.values, rows: x.channels, cols: x.pixels), channels: x.channels, height: x.pixels, width: 1)
    }

    private func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
        if !ok { throw CheckpointError(message()) }
    }
}

extension ProjectorWeights {
    /// Linear -> GELU -> Linear on rows [N][C] (CPU).
    public func forwardCPU(_ tokens: [Float], count n: Int) throws -> [Float] {
        let h = Reference.linear(x: tokens, m: n, k: fc1.inFeatures, weight: try fc1.weight.floats(), n: fc1.outFeatures, bias: fc1.bias).map(Reference.gelu)
        return Reference.linear(x: h, m: n, k: fc2.inFeatures, weight: try fc2.weight.floats(), n: fc2.outFeatures, bias: fc2.bias)
    }
}
