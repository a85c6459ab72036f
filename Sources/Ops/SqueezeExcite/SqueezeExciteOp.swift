import VulkanCore

/// Squeeze-excite on an HWC map x [pixels][channels] (fp32 or fp16 storage), optionally followed
/// by GELU (conv_exp applies GELU right after SE, so it is fused into the final scaling):
///   s = sigmoid(W2 relu(W1 mean_p(x) + b1) + b2);  y[p, c] = act(x[p, c] * s[c]).
/// Four dispatches: a per-channel mean (fp32 reduction), the two tiny FCs, the scaling.
/// y may be x itself. The intermediate vectors live in `scratch` (see `scratchFloats`), always fp32.
public enum SqueezeExciteOp {
    static let meanLocal = 256
    static let meanChannels = 32   // channel lanes per mean workgroup; 256 / 32 = 8 pixel lanes
    static let fcLocal = 64
    static let scaleLocal = 256

    /// Floats `scratch` must hold: the mean and the gate (C each) and the hidden vector (R),
    /// each starting at a multiple of 256 bytes (the largest minStorageBufferOffsetAlignment
    /// Vulkan allows), so the three can be bound separately. `scratch` itself must be aligned.
    public static func scratchFloats(channels: Int, reduced: Int) -> Int { 2 * padded(channels) + reduced }

    static func padded(_ floats: Int) -> Int { Grid.ceilDiv(floats, 64) * 64 }

    /// `reduce`: LinearWeight [reduced][channels]; `expand`: [channels][reduced], in any
    /// `WeightFormat` (the model keeps these small weights f32 or f16); biases fp32.
    public static func encode(_ seq: CommandSequence, x: BufferView, y: BufferView, pixels: Int, channels: Int,
                              reduce: LinearWeight, reduceBias: BufferView?, expand: LinearWeight, expandBias: BufferView?,
                              scratch: BufferView, gelu: Bool = false, activations: StorageType = .f32,
                              label: String = "squeeze_excite") throws {
        let (p, c, r) = (pixels, channels, reduce.rows)
        try require(p > 0 && c > 0, "squeeze-excite: bad shape \(p)x\(c)")
        try require(reduce.cols == c && expand.rows == c && expand.cols == r,
                    "squeeze-excite: weights \(reduce.rows)x\(reduce.cols) and \(expand.rows)x\(expand.cols) do not fit \(c) channels")
        let a = activations.size
        try require(x.size >= p * c * a && y.size >= p * c * a, "squeeze-excite: x or y smaller than \(p)x\(c) \(activations)")
        try requireActivations(activations, on: seq.device.capabilities, "squeeze-excite")
        try require(floats(scratch) >= scratchFloats(channels: c, reduced: r), "squeeze-excite: scratch needs \(scratchFloats(channels: c, reduced: r)) floats")
        if let reduceBias { try require(floats(reduceBias) >= r, "squeeze-excite: reduce bias smaller than \(r)") }
        if let expandBias { try require(floats(expandBias) >= c, "squeeze-excite: expand bias smaller than \(c)") }
        try require(p * c < Int(UInt32.max) - scaleLocal * Grid.maxGroups, "squeeze-excite: \(p)x\(c) is too large for 32-bit indexing")
        let mean = scratch.slice(offset: 0, size: c * 4)
        let gate = scratch.slice(offset: padded(c) * 4, size: c * 4)
        let hidden = scratch.slice(offset: 2 * padded(c) * 4, size: r * 4)
        let device = seq.device

        let half = activations == .f16
        let meanPipeline = try device.pipeline(half ? ShaderLibrary.se_mean_a16 : ShaderLibrary.se_mean, bindings: 2, pushConstantSize: 8,
                                               specialization: [UInt32(meanLocal), UInt32(meanChannels)])
        try seq.dispatch(meanPipeline, [.read(x), .write(mean)], push: [UInt32(p), UInt32(c)],
                         groups: Grid.rows(Grid.ceilDiv(c, meanChannels)), label: label + ".mean",
                         flops: Double(p * c), bytes: Double(p * c * a + c * 4))

        try fc(seq, input: mean, weight: reduce, bias: reduceBias, output: hidden, activation: 1, label: label + ".reduce")
        try fc(seq, input: hidden, weight: expand, bias: expandBias, output: gate, activation: 2, label: label + ".expand")

        let scalePipeline = try device.pipeline(half ? ShaderLibrary.se_scale_a16 : ShaderLibrary.se_scale, bindings: 3, pushConstantSize: 12,
                                                specialization: [UInt32(scaleLocal)])
        try seq.dispatch(scalePipeline, [.read(x), .read(gate), .write(y)], push: [UInt32(p * c), UInt32(c), gelu ? 1 : 0],
                         groups: Grid.strided(p * c, local: scaleLocal), label: label + ".scale",
                         flops: Double(p * c) * (gelu ? 9 : 1), bytes: Double(2 * p * c * a + c * 4))
    }

    /// output[n] = act(W[n, :] . input + b[n]), act 1 = ReLU, 2 = sigmoid.
    static func fc(_ seq: CommandSequence, input: BufferView, weight: LinearWeight, bias: BufferView?, output: BufferView,
                   activation: UInt32, label: String) throws {
        let shader = try ShaderLibrary.variant("se_fc_" + weight.format.rawValue, in: ShaderLibrary.squeeze_excite_variants,
                                               "squeeze-excite: no kernel for \(weight.format) weights")
        let pipeline = try seq.device.pipeline(shader, bindings: 4, pushConstantSize: 16, specialization: [UInt32(fcLocal)])
        let (n, k) = (weight.rows, weight.cols)
        try seq.dispatch(pipeline, [.read(input), .read(weight.rowSlice(first: 0, count: weight.rows)), .read(bias ?? input), .write(output)],
                         push: [UInt32(n), UInt32(k), bias == nil ? 0 : 1, activation], groups: Grid.rows(n), label: label,
                         flops: Double(2 * n * k), bytes: Double(weight.byteCount + (k + 2 * n) * 4))
    }
}
