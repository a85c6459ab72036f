import Ops
import VulkanCore

/// A linear layer on the device: the weight and its fp32 bias.
struct DeviceLinear {
    let weight: LinearWeight
    let bias: DeviceBuffer?

    var biasView: BufferView? { bias?.view }
}

/// q, k and v stacked in one [q; k; v] weight, so a decode step runs one GEMV whose output
/// row holds q | k | v; the parts (row ranges of the same memory) serve prefill, whose
/// attention ops want q, k and v as separate [T][width] tensors.
struct DeviceQKV {
    let stacked: DeviceLinear
    let q: DeviceLinear
    let k: DeviceLinear
    let v: DeviceLinear
}

/// Model weights on the device, uploaded on first use under the keys the architecture code
/// (`FastViTHD.forward`, `Qwen2.forward`) passes, so the recorders need no knowledge of the
/// layer structure. Each matrix goes up from its `WeightTensor` (the mapped checkpoint or a
/// generator) a bounded piece at a time, converted to `formats.matrix`; vectors (biases,
/// norms, layer scales) and depthwise taps stay fp32.
final class GPUWeightStore {
    let device: Device
    let formats: WeightFormats
    private var vectors: [String: DeviceBuffer] = [:]
    private var linears: [String: DeviceLinear] = [:]
    private var qkvs: [String: DeviceQKV] = [:]
    private var denseConvs: [String: Conv2DOp.Weight] = [:]
    private var depthwiseConvs: [String: DepthwiseConv2DOp.Weight] = [:]
    /// Device bytes uploaded so far.
    private(set) var bytes = 0

    init(device: Device, formats: WeightFormats) {
        self.device = device
        self.formats = formats
    }

    /// An fp32 vector (norm weights, layer scales).
    func vector(_ key: String, _ values: [Float]) throws -> DeviceBuffer {
        if let v = vectors[key] { return v }
        let buffer = try uploadVector(values)
        vectors[key] = buffer
        return buffer
    }

    /// A linear layer in the matrix format (`small: true`: the squeeze-excite's, whose kernel
    /// takes the 16-bit or fp32 small format).
    func linear(_ key: String, _ w: LinearWeights, small: Bool = false) throws -> DeviceLinear {
        if let l = linears[key] { return l }
        let format = small ? formats.small : formats.matrix(cols: w.inFeatures)
        let l = DeviceLinear(weight: try upload(w.weight, format: format), bias: try w.bias.map { try uploadVector($0) })
        linears[key] = l
        return l
    }

    /// A 1x1 convolution as a linear layer (OIHW with H = W = 1 is [out][in]).
    func pointwise(_ key: String, _ c: ConvWeights) throws -> DeviceLinear {
        try linear(key, LinearWeights(weight: c.weight, bias: c.bias, outFeatures: c.outChannels, inFeatures: c.inChannels))
    }

    /// A dense k x k convolution (groups 1).
    func conv(_ key: String, _ c: ConvWeights) throws -> Conv2DOp.Weight {
        if let w = denseConvs[key] { return w }
        let w = try Conv2DOp.Weight(device: device, values: try c.weight.floats(), bias: c.bias, outChannels: c.outChannels,
                                    inChannels: c.inChannels, kernel: c.kernel, type: formats.small == .f16 ? .f16 : .f32)
        denseConvs[key] = w
        bytes += w.buffer.size + w.bias.size
        return w
    }

    /// A depthwise or channel-multiplier convolution (groups = C_in).
    func depthwise(_ key: String, _ c: ConvWeights) throws -> DepthwiseConv2DOp.Weight {
        if let w = depthwiseConvs[key] { return w }
        let w = try DepthwiseConv2DOp.Weight(device: device, values: try c.weight.floats(), bias: c.bias, inChannels: c.inChannels,
                                             multiplier: c.outChannels / c.inChannels, kernel: c.kernel)
        depthwiseConvs[key] = w
        bytes += w.buffer.size + (w.bias?.size ?? 0)
        return w
    }

    /// A bias-free [rows][cols] matrix (embedding table, LM head).
    func matrix(_ key: String, _ tensor: WeightTensor) throws -> LinearWeight {
        try linear(key, LinearWeights(weight: tensor, bias: nil, outFeatures: tensor.rows, inFeatures: tensor.cols)).weight
    }

    /// Serves `key` with a weight already on the device (the tied LM head).
    func alias(_ key: String, to weight: LinearWeight) {
        linears[key] = DeviceLinear(weight: weight, bias: nil)
    }

    /// Several weights over the same input stacked into one (gate and up: one GEMM whose
    /// rows are [gate | up]).
    func stacked(_ key: String, _ parts: [LinearWeights]) throws -> DeviceLinear {
        if let l = linears[key] { return l }
        let source = try StackedRows(parts.map(\.weight))
        let biases = parts.compactMap(\.bias)
        guard biases.isEmpty || biases.count == parts.count else { throw GPULanguageModelError("\(key): only some stacked weights have a bias") }
        let l = DeviceLinear(weight: try upload(source, format: formats.matrix(cols: source.cols)),
                             bias: biases.isEmpty ? nil : try uploadVector(biases.flatMap { $0 }))
        linears[key] = l
        return l
    }

    func qkv(_ key: String, q: LinearWeights, k: LinearWeights, v: LinearWeights) throws -> DeviceQKV {
        if let s = qkvs[key] { return s }
        let stacked = try self.stacked(key, [q, k, v])
        func part(_ w: LinearWeights, first: Int) throws -> DeviceLinear {
            // Row ranges share the stacked memory where the device can bind their offset.
            let weight = stacked.weight.canSplit(atRow: first)
                ? try stacked.weight.rows(first..<first + w.outFeatures)
                : try upload(w.weight, format: stacked.weight.format)
            return DeviceLinear(weight: weight, bias: try w.bias.map { try uploadVector($0) })
        }
        let s = DeviceQKV(stacked: stacked, q: try part(q, first: 0), k: try part(k, first: q.outFeatures),
                          v: try part(v, first: q.outFeatures + k.outFeatures))
        qkvs[key] = s
        return s
    }

    private func upload(_ source: some WeightRows, format: WeightFormat) throws -> LinearWeight {
        let w = try LinearWeight(device: device, source: source, format: format)
        bytes += w.buffer.size
        return w
    }

    private func uploadVector(_ values: [Float]) throws -> DeviceBuffer {
        let b = try device.upload(values)
        bytes += b.size
        return b
    }
}
