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
/// layer structure. Once the first recording has touched every key, later recordings only
/// look up, and the host arrays may be gone: a key met with no values and not uploaded is
/// an error. `type` is the storage of the large matrices (GEMM and dense-conv weights);
/// vectors (biases, norms, layer scales) and depthwise taps stay fp32.
final class GPUWeightStore {
    let device: Device
    let type: StorageType
    private var vectors: [String: DeviceBuffer] = [:]
    private var linears: [String: DeviceLinear] = [:]
    private var qkvs: [String: DeviceQKV] = [:]
    private var denseConvs: [String: Conv2DOp.Weight] = [:]
    private var depthwiseConvs: [String: DepthwiseConv2DOp.Weight] = [:]
    /// Device bytes uploaded so far.
    private(set) var bytes = 0

    init(device: Device, type: StorageType) {
        self.device = device
        self.type = type
    }

    /// An fp32 vector (norm weights, layer scales).
    func vector(_ key: String, _ values: [Float]) throws -> DeviceBuffer {
        if let v = vectors[key] { return v }
        try requireValues(key, values.count)
        let buffer = try device.upload(values)
        vectors[key] = buffer
        bytes += buffer.size
        return buffer
    }

    func linear(_ key: String, _ w: LinearWeights) throws -> DeviceLinear {
        if let l = linears[key] { return l }
        try requireValues(key, w.weight.count)
        let l = DeviceLinear(weight: try upload(key, w.weight, rows: w.outFeatures, cols: w.inFeatures),
                             bias: try w.bias.map { try uploadVector($0) })
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
        try requireValues(key, c.weight.count)
        let w = try Conv2DOp.Weight(device: device, values: c.weight, bias: c.bias, outChannels: c.outChannels,
                                    inChannels: c.inChannels, kernel: c.kernel, type: type)
        denseConvs[key] = w
        bytes += w.buffer.size + w.bias.size
        return w
    }

    /// A depthwise or channel-multiplier convolution (groups = C_in).
    func depthwise(_ key: String, _ c: ConvWeights) throws -> DepthwiseConv2DOp.Weight {
        if let w = depthwiseConvs[key] { return w }
        try requireValues(key, c.weight.count)
        let w = try DepthwiseConv2DOp.Weight(device: device, values: c.weight, bias: c.bias, inChannels: c.inChannels,
                                             multiplier: c.outChannels / c.inChannels, kernel: c.kernel)
        depthwiseConvs[key] = w
        bytes += w.buffer.size + (w.bias?.size ?? 0)
        return w
    }

    /// A bias-free [rows][cols] matrix (embedding table, LM head).
    func matrix(_ key: String, _ values: [Float], rows: Int, cols: Int) throws -> LinearWeight {
        try linear(key, LinearWeights(weight: values, bias: nil, outFeatures: rows, inFeatures: cols)).weight
    }

    /// Serves `key` with a weight already on the device (the tied LM head).
    func alias(_ key: String, to weight: LinearWeight) {
        linears[key] = DeviceLinear(weight: weight, bias: nil)
    }

    /// Several weights over the same input stacked into one (gate and up: one GEMM whose
    /// rows are [gate | up]).
    func stacked(_ key: String, _ parts: [LinearWeights]) throws -> DeviceLinear {
        if let l = linears[key] { return l }
        let cols = parts.first?.inFeatures ?? 0
        guard parts.allSatisfy({ $0.inFeatures == cols }) else {
            throw GPULanguageModelError("\(key): the stacked weights have different input widths \(parts.map(\.inFeatures))")
        }
        try requireValues(key, parts.reduce(0) { $0 + $1.weight.count })
        let biases = parts.compactMap(\.bias)
        guard biases.isEmpty || biases.count == parts.count else { throw GPULanguageModelError("\(key): only some stacked weights have a bias") }
        let l = DeviceLinear(weight: try upload(key, parts.flatMap(\.weight), rows: parts.reduce(0) { $0 + $1.outFeatures }, cols: cols),
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
                : try upload(key, w.weight, rows: w.outFeatures, cols: w.inFeatures)
            return DeviceLinear(weight: weight, bias: try w.bias.map { try uploadVector($0) })
        }
        let s = DeviceQKV(stacked: stacked, q: try part(q, first: 0), k: try part(k, first: q.outFeatures),
                          v: try part(v, first: q.outFeatures + k.outFeatures))
        qkvs[key] = s
        return s
    }

    private func requireValues(_ key: String, _ count: Int) throws {
        guard count > 0 else { throw CheckpointError("weight \(key) is not on the device and no values were given for it") }
    }

    private func upload(_ key: String, _ values: [Float], rows: Int, cols: Int) throws -> LinearWeight {
        let w = try LinearWeight(device: device, values: values, rows: rows, cols: cols, format: WeightFormat(rawValue: type.rawValue)!)
        bytes += w.buffer.size
        return w
    }

    private func uploadVector(_ values: [Float]) throws -> DeviceBuffer {
        let b = try device.upload(values)
        bytes += b.size
        return b
    }
}
