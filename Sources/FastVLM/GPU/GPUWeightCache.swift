import Ops
import VulkanCore

/// Weights uploaded once, on first use, and found again by the key the model code gives
/// them. `type` is the storage of the large matrices (GEMM and dense-conv weights); small
/// per-channel vectors (biases, norms, layer scales) and depthwise taps stay fp32.
final class GPUWeightCache {
    let device: Device
    let type: StorageType
    private var linears: [String: (weight: LinearWeight, bias: DeviceBuffer?)] = [:]
    private var dense: [String: Conv2DOp.Weight] = [:]
    private var depthwise: [String: DepthwiseConv2DOp.Weight] = [:]
    private var vectors: [String: DeviceBuffer] = [:]

    init(device: Device, type: StorageType) {
        self.device = device
        self.type = type
    }

    /// Bytes of everything uploaded so far.
    var bytes: Int {
        linears.values.reduce(0) { $0 + $1.weight.buffer.size + ($1.bias?.size ?? 0) }
            + dense.values.reduce(0) { $0 + $1.buffer.size + $1.bias.size }
            + depthwise.values.reduce(0) { $0 + $1.buffer.size + ($1.bias?.size ?? 0) }
            + vectors.values.reduce(0) { $0 + $1.size }
    }

    func linear(_ key: String, _ w: LinearWeights) throws -> (weight: LinearWeight, bias: BufferView?) {
        if let hit = linears[key] { return (hit.weight, hit.bias?.view) }
        let weight = try LinearWeight(device: device, values: w.weight, rows: w.outFeatures, cols: w.inFeatures, type: type)
        let bias = try w.bias.map { try device.upload($0) }
        linears[key] = (weight, bias)
        return (weight, bias?.view)
    }

    /// A 1x1 convolution as a linear layer (OIHW with H = W = 1 is [out][in]).
    func pointwise(_ key: String, _ c: ConvWeights) throws -> (weight: LinearWeight, bias: BufferView?) {
        try linear(key, LinearWeights(weight: c.weight, bias: c.bias, outFeatures: c.outChannels, inFeatures: c.inChannels))
    }

    func conv(_ key: String, _ c: ConvWeights) throws -> Conv2DOp.Weight {
        if let hit = dense[key] { return hit }
        let w = try Conv2DOp.Weight(device: device, values: c.weight, bias: c.bias, outChannels: c.outChannels,
                                    inChannels: c.inChannels, kernel: c.kernel, type: type)
        dense[key] = w
        return w
    }

    func depthwise(_ key: String, _ c: ConvWeights) throws -> DepthwiseConv2DOp.Weight {
        if let hit = depthwise[key] { return hit }
        let w = try DepthwiseConv2DOp.Weight(device: device, values: c.weight, bias: c.bias, inChannels: c.inChannels,
                                             multiplier: c.outChannels / c.inChannels, kernel: c.kernel)
        depthwise[key] = w
        return w
    }

    func vector(_ key: String, _ values: [Float]) throws -> BufferView {
        if let hit = vectors[key] { return hit.view }
        let b = try device.upload(values)
        vectors[key] = b
        return b.view
    }
}
