import VulkanCore

/// Depthwise (groups = C) and channel-multiplier (groups = C_in, C_out = m * C_in, output o reads
/// input o / m) k x k convolutions on HWC maps stored as fp32 or fp16 (weights and arithmetic
/// fp32): stride s, zero padding k/2, optional bias, optional fused GELU. FastViTHD's RepMixer
/// mixers (3x3 s1), ConvFFN (7x7 s1, BN folded), RepCPE (7x7 s1), stem.1 (3x3 s2) are
/// multiplier 1; the downsample convs (7x7 s2, GELU) and conv_exp (3x3 s1) are multiplier 2.
/// The kernel uses vec4 loads and stores when C_out % 4 == 0.
public enum DepthwiseConv2DOp {
    static let local = 64

    /// Output pixels per invocation: a `height` x `width` block. See depthwise_conv2d.comp for
    /// why CPU devices get a large block and GPUs a small one.
    public struct Tile: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
        }
    }

    /// A depthwise / multiplier weight on the device, reordered from OIHW [C_out][1][k][k] to
    /// [k][k][C_out] (channels contiguous, like the activations), with its bias. fp32 only: these
    /// weights are k*k values per channel (0.3% of the tower's parameters).
    public final class Weight {
        public let buffer: DeviceBuffer
        /// The bias, or nil (the kernel then adds nothing).
        public let bias: DeviceBuffer?
        public let inChannels: Int
        public let multiplier: Int
        public let kernel: Int
        public var outChannels: Int { inChannels * multiplier }

        /// `values`: OIHW [inChannels * multiplier][1][kernel][kernel]; `bias`: [inChannels * multiplier] or nil.
        public init(device: Device, values: [Float], bias: [Float]?, inChannels: Int, multiplier: Int = 1, kernel: Int) throws {
            try require(inChannels > 0 && kernel > 0 && kernel % 2 == 1, "depthwise weight: needs channels and an odd kernel, got \(inChannels) k\(kernel)")
            try require(multiplier == 1 || multiplier == 2, "depthwise weight: channel multiplier \(multiplier) (supported: 1, 2)")
            let cout = inChannels * multiplier, taps = kernel * kernel
            try require(values.count == cout * taps, "depthwise weight: \(values.count) values for OIHW \(cout)x1x\(kernel)x\(kernel)")
            if let bias { try require(bias.count == cout, "depthwise bias: \(bias.count) values for \(cout) channels") }
            self.inChannels = inChannels
            self.multiplier = multiplier
            self.kernel = kernel
            var reordered = [Float](repeating: 0, count: values.count)
            for o in 0..<cout { for t in 0..<taps { reordered[t * cout + o] = values[o * taps + t] } }
            buffer = try device.upload(reordered)
            self.bias = try bias.map { try device.upload($0) }
        }
    }

    /// Output side for an input side, kernel and stride (padding k/2).
    public static func outputSize(_ size: Int, kernel: Int, stride: Int) -> Int { Reference.convOutputSize(size, kernel: kernel, stride: stride) }

    /// y [OH][OW][C_out] = act(conv(x [height][width][C_in])), x and y stored as `activations`.
    /// `vectorized` forces the vec4 or the scalar kernel (nil: vec4 whenever C_out % 4 == 0) and
    /// `tile` the work block (nil: the device's default); tests use them to cover every kernel shape.
    public static func encode(_ seq: CommandSequence, x: BufferView, weight: Weight, y: BufferView, height: Int, width: Int,
                              stride: Int = 1, gelu: Bool = false, activations: StorageType = .f32, vectorized: Bool? = nil,
                              tile: Tile? = nil, label: String = "depthwise_conv2d") throws {
        let (cin, cout, k, m) = (weight.inChannels, weight.outChannels, weight.kernel, weight.multiplier)
        try require(height > 0 && width > 0 && stride > 0, "depthwise conv: bad shape \(height)x\(width) stride \(stride)")
        let (oh, ow) = (outputSize(height, kernel: k, stride: stride), outputSize(width, kernel: k, stride: stride))
        let a = activations.size
        try require(x.size >= height * width * cin * a, "depthwise conv: x holds \(x.size) bytes, needs \(height)x\(width)x\(cin) \(activations)")
        try require(y.size >= oh * ow * cout * a, "depthwise conv: y holds \(y.size) bytes, needs \(oh)x\(ow)x\(cout) \(activations)")
        try requireActivations(activations, on: seq.device.capabilities, "depthwise conv")
        try require(!x.overlaps(y), "depthwise conv: x and y overlap (neighbouring outputs read what others overwrite)")
        let vec4 = vectorized ?? (cout % 4 == 0)
        if vec4 { try require(cout % 4 == 0, "depthwise conv: the vec4 kernel needs C_out % 4 == 0, got \(cout)") }
        let tile = tile ?? seq.device.kernelPolicy.depthwiseTile
        try require(tile.width > 0 && tile.height > 0, "depthwise conv: bad tile \(tile)")
        let lanes = vec4 ? cout / 4 : cout
        let invocations = Grid.ceilDiv(oh, tile.height) * Grid.ceilDiv(ow, tile.width) * lanes
        try require(invocations < Int(UInt32.max) - local * Grid.maxGroups, "depthwise conv: \(oh)x\(ow)x\(cout) output is too large for 32-bit indexing")
        let shader: ShaderSource
        switch (m, vec4, activations) {
        case (1, false, .f32): shader = ShaderLibrary.depthwise_conv2d
        case (1, true, .f32): shader = ShaderLibrary.depthwise_conv2d_vec4
        case (_, false, .f32): shader = ShaderLibrary.depthwise_conv2d_m2
        case (_, true, .f32): shader = ShaderLibrary.depthwise_conv2d_m2_vec4
        case (1, false, .f16): shader = ShaderLibrary.depthwise_conv2d_a16
        case (1, true, .f16): shader = ShaderLibrary.depthwise_conv2d_vec4_a16
        case (_, false, .f16): shader = ShaderLibrary.depthwise_conv2d_m2_a16
        case (_, true, .f16): shader = ShaderLibrary.depthwise_conv2d_m2_vec4_a16
        }
        let pipeline = try seq.device.pipeline(shader, bindings: 4, pushConstantSize: 36,
                                               specialization: [local, k, stride, tile.width, tile.height].map { UInt32($0) })
        let push: [UInt32] = [height, width, cin, oh, ow, cout, lanes, weight.bias == nil ? 0 : 1, gelu ? 1 : 0].map { UInt32($0) }
        let outputs = Double(oh * ow * cout)
        // Without a bias the weight buffer stands in for the binding; the kernel never reads it.
        let bias = weight.bias?.view ?? weight.buffer.view
        try seq.dispatch(pipeline, [.read(x), .read(weight.buffer.view), .read(bias), .write(y)], push: push,
                         groups: Grid.strided(invocations, local: local), label: label,
                         flops: outputs * Double(2 * k * k) + (gelu ? outputs * 8 : 0),
                         bytes: Double((height * width * cin + oh * ow * cout) * a + weight.buffer.size))
    }
}
