import Ops
import VulkanCore

/// FastViTHD's operations recorded into a command sequence on HWC maps. Nothing runs here:
/// the encoder records once and replays the sequence per image. Intermediate maps come
/// from `arena` and return to it when the model code drops them, so memory is reused by
/// lifetime across the whole tower. Every map (and the attention's qkv rows) is stored as
/// `activations`; arithmetic is fp32 inside every kernel.
final class GPUVisionBackend: VisionBackend {
    let seq: CommandSequence
    let arena: TensorArena
    let weights: GPUWeightStore
    let activations: StorageType

    init(seq: CommandSequence, arena: TensorArena, weights: GPUWeightStore, activations: StorageType) {
        self.seq = seq
        self.arena = arena
        self.weights = weights
        self.activations = activations
    }

    func map(channels: Int, height: Int, width: Int) throws -> GPUMap {
        GPUMap(tensor: try arena.tensor([height, width, channels], activations), channels: channels, height: height, width: width)
    }

    func conv(_ x: GPUMap, _ w: ConvWeights, key: String, gelu: Bool) throws -> GPUMap {
        try check(x.channels == w.inChannels, "\(key): input has \(x.channels) channels, the conv expects \(w.inChannels)")
        if w.kernel == 1 && w.stride == 1 && w.groups == 1 {
            let layer = try weights.pointwise(key, w)
            let y = try map(channels: w.outChannels, height: x.height, width: x.width)
            try LinearOp.encode(seq, x: x.tensor.view, weight: layer.weight, bias: layer.biasView, y: y.tensor.view, m: x.pixels,
                                activation: gelu ? .gelu : .none, activations: activations, label: "conv1x1")
            return y
        }
        let oh = Reference.convOutputSize(x.height, kernel: w.kernel, stride: w.stride)
        let ow = Reference.convOutputSize(x.width, kernel: w.kernel, stride: w.stride)
        let y = try map(channels: w.outChannels, height: oh, width: ow)
        if w.groups == 1 {
            try Conv2DOp.encode(seq, x: x.tensor.view, weight: try weights.conv(key, w), y: y.tensor.view, height: x.height, width: x.width,
                                stride: w.stride, gelu: gelu, activations: activations, label: "conv\(w.kernel)x\(w.kernel)")
        } else if w.groups == w.inChannels && (w.outChannels == w.inChannels || w.outChannels == 2 * w.inChannels) {
            let multiplier = w.outChannels / w.inChannels
            try DepthwiseConv2DOp.encode(seq, x: x.tensor.view, weight: try weights.depthwise(key, w), y: y.tensor.view,
                                         height: x.height, width: x.width, stride: w.stride, gelu: gelu, activations: activations,
                                         label: multiplier == 1 ? "depthwise\(w.kernel)x\(w.kernel)" : "grouped\(w.kernel)x\(w.kernel)_m2")
        } else {
            throw CheckpointError("\(key): a conv with \(w.groups) groups for \(w.inChannels) -> \(w.outChannels) channels is not a FastViTHD shape")
        }
        return y
    }

    func pointwise(_ x: GPUMap, _ w: LinearWeights, key: String, gelu: Bool, scale: [Float]?, residual: GPUMap?) throws -> GPUMap {
        try check(x.channels == w.inFeatures, "\(key): input has \(x.channels) channels, the layer expects \(w.inFeatures)")
        let layer = try weights.linear(key, w)
        let y = try map(channels: w.outFeatures, height: x.height, width: x.width)
        try LinearOp.encode(seq, x: x.tensor.view, weight: layer.weight, bias: layer.biasView, y: y.tensor.view, m: x.pixels, activation: gelu ? .gelu : .none,
                            scale: try scale.map { try weights.vector(key + ".scale", $0).view }, residual: residual?.tensor.view,
                            activations: activations, label: residual == nil ? "conv1x1" : "conv1x1+residual")
        return y
    }

    func layerNormChannels(_ x: GPUMap, _ norm: NormWeights, key: String) throws -> GPUMap {
        let y = try map(channels: x.channels, height: x.height, width: x.width)
        let bias = norm.bias ?? [Float](repeating: 0, count: x.channels)
        try RowNormOp.encode(seq, .layer, x: x.tensor.view, weight: try weights.vector(key + ".weight", norm.weight).view,
                             bias: try weights.vector(key + ".bias", bias).view, y: y.tensor.view, rows: x.pixels, width: x.channels, eps: 1e-5,
                             activations: activations)
        return y
    }

    func attention(_ x: GPUMap, qkv: LinearWeights, proj: LinearWeights, key: String, scale: [Float], residual: GPUMap) throws -> GPUMap {
        let c = x.channels, n = x.pixels
        let qkvLayer = try weights.linear(key + ".qkv", qkv)
        let packed = try arena.tensor([n, 3 * c], activations)
        try LinearOp.encode(seq, x: x.tensor.view, weight: qkvLayer.weight, bias: qkvLayer.biasView, y: packed.view, m: n, activations: activations,
                            label: "attention.qkv")
        let attended = try arena.tensor([n, c], activations)
        try VisionAttentionOp.encode(seq, qkv: packed.view, out: attended.view, tokens: n, channels: c,
                                     headDim: FastViTHDWeights.AttentionBlock.headDim, activations: activations, label: "attention.core")
        let projLayer = try weights.linear(key + ".proj", proj)
        let y = try map(channels: c, height: x.height, width: x.width)
        try LinearOp.encode(seq, x: attended.view, weight: projLayer.weight, bias: projLayer.biasView, y: y.tensor.view, m: n,
                            scale: try weights.vector(key + ".layer_scale", scale).view, residual: residual.tensor.view,
                            activations: activations, label: "attention.proj+residual")
        return y
    }

    func squeezeExciteGELU(_ x: GPUMap, reduce: LinearWeights, expand: LinearWeights, key: String) throws -> GPUMap {
        let r = try weights.linear(key + ".reduce", reduce, small: true)
        let e = try weights.linear(key + ".expand", expand, small: true)
        let scratch = try arena.tensor([SqueezeExciteOp.scratchFloats(channels: x.channels, reduced: reduce.outFeatures)], .f32)
        let y = try map(channels: x.channels, height: x.height, width: x.width)
        try SqueezeExciteOp.encode(seq, x: x.tensor.view, y: y.tensor.view, pixels: x.pixels, channels: x.channels, reduce: r.weight, reduceBias: r.biasView,
                                   expand: e.weight, expandBias: e.biasView, scratch: scratch.view, gelu: true, activations: activations, label: "squeeze_excite")
        return y
    }

    /// HWC already is [H*W][C] with token = row * W + col.
    func tokens(_ x: GPUMap) throws -> GPUMap {
        GPUMap(tensor: x.tensor, channels: x.channels, height: x.pixels, width: 1)
    }

    private func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
        if !ok { throw CheckpointError(message()) }
    }
}
