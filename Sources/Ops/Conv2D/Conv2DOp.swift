import VulkanCore

/// Dense k x k convolution (groups 1) on HWC maps (fp32 or fp16 storage): stride s, zero padding
/// k/2, bias, optional fused GELU; fp32 or fp16 weights, fp32 accumulation. FastViTHD uses it for the
/// stem's first conv (3 -> 96, 3x3 s2 on the 1024x1024 image). Depthwise and channel-multiplier
/// convs are `DepthwiseConv2DOp`; 1x1 convs are `LinearOp` GEMMs (pixels x C_in times W^T).
public enum Conv2DOp {
    static let local = 64

    /// Work per invocation: a `height` x `width` block of output pixels times `channelGroups`
    /// groups of four output channels (1 or 2). See conv2d.comp for why CPUs get a large block.
    public struct Tile: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var channelGroups: Int
        public init(width: Int, height: Int, channelGroups: Int) {
            self.width = width
            self.height = height
            self.channelGroups = channelGroups
        }
    }

    /// A conv weight resident on the device, reordered from PyTorch's OIHW to [k][k][C_in][C_out8]
    /// (C_out padded to a multiple of 8 with zeros) so the kernel loads four output channels of
    /// one tap with one aligned vector load, and a two-group tile never reads past the end. The
    /// bias is padded the same way (zeros when absent).
    public final class Weight {
        public let buffer: DeviceBuffer
        public let bias: DeviceBuffer
        public let hasBias: Bool
        public let outChannels: Int
        public let inChannels: Int
        public let kernel: Int
        public let type: StorageType
        /// C_out rounded up to a multiple of 8: the padded weight's channel count.
        public let paddedOutChannels: Int

        /// Refuses an OIHW weight and bias that do not match their shape (`what` names the op).
        static func check(_ what: String, values: [Float], bias: [Float]?, outChannels: Int, inChannels: Int, kernel: Int) throws {
            try require(outChannels > 0 && inChannels > 0 && kernel > 0 && kernel % 2 == 1,
                        "\(what) weight: needs positive channels and an odd kernel, got \(outChannels)x\(inChannels)x\(kernel)")
            try require(values.count == outChannels * inChannels * kernel * kernel,
                        "\(what) weight: \(values.count) values for OIHW \(outChannels)x\(inChannels)x\(kernel)x\(kernel)")
            if let bias { try require(bias.count == outChannels, "\(what) bias: \(bias.count) values for \(outChannels) channels") }
        }

        /// `values`: OIHW [outChannels][inChannels][kernel][kernel]; `bias`: [outChannels] or nil.
        public init(device: Device, values: [Float], bias: [Float]?, outChannels: Int, inChannels: Int, kernel: Int,
                    type: StorageType) throws {
            try Self.check("conv2d", values: values, bias: bias, outChannels: outChannels, inChannels: inChannels, kernel: kernel)
            self.outChannels = outChannels
            self.inChannels = inChannels
            self.kernel = kernel
            self.type = type
            hasBias = bias != nil
            let padded = Grid.ceilDiv(outChannels, 8) * 8
            paddedOutChannels = padded
            var reordered = [Float](repeating: 0, count: kernel * kernel * inChannels * padded)
            for o in 0..<outChannels {
                for c in 0..<inChannels {
                    for t in 0..<kernel * kernel {
                        reordered[(t * inChannels + c) * padded + o] = values[(o * inChannels + c) * kernel * kernel + t]
                    }
                }
            }
            switch type {
            case .f32: buffer = try device.upload(reordered)
            case .f16: buffer = try device.upload(reordered.map { Float16($0).bitPattern })   // even count: padded is a multiple of 8
            }
            var b = bias ?? []
            b += [Float](repeating: 0, count: padded - b.count)
            self.bias = try device.upload(b)
        }
    }

    /// Output side for an input side, kernel and stride (padding k/2).
    public static func outputSize(_ size: Int, kernel: Int, stride: Int) -> Int { Reference.convOutputSize(size, kernel: kernel, stride: stride) }

    /// y [OH][OW][C_out] = act(conv(x [height][width][C_in])), x and y stored as `activations`.
    /// Checks x and y against an HWC map and its output (`what` names the op); returns the output side.
    static func checkMaps(_ what: String, _ seq: CommandSequence, x: BufferView, y: BufferView, height: Int, width: Int,
                          inChannels cin: Int, outChannels cout: Int, kernel k: Int, stride: Int,
                          activations: StorageType) throws -> (oh: Int, ow: Int) {
        try require(height > 0 && width > 0 && stride > 0, "\(what): bad shape \(height)x\(width) stride \(stride)")
        let (oh, ow) = (outputSize(height, kernel: k, stride: stride), outputSize(width, kernel: k, stride: stride))
        let a = activations.size
        try require(x.size >= height * width * cin * a, "\(what): x holds \(x.size) bytes, needs \(height)x\(width)x\(cin) \(activations)")
        try require(y.size >= oh * ow * cout * a, "\(what): y holds \(y.size) bytes, needs \(oh)x\(ow)x\(cout) \(activations)")
        try requireActivations(activations, on: seq.device.capabilities, what)
        try require(!x.overlaps(y), "\(what): x and y overlap (neighbouring outputs read what others overwrite)")
        return (oh, ow)
    }

    /// `tile` overrides the device's default work block (tests cover both).
    public static func encode(_ seq: CommandSequence, x: BufferView, weight: Weight, y: BufferView, height: Int, width: Int,
                              stride: Int = 1, gelu: Bool = false, activations: StorageType = .f32, tile: Tile? = nil,
                              label: String = "conv2d") throws {
        let (cin, cout, k) = (weight.inChannels, weight.outChannels, weight.kernel)
        let (oh, ow) = try checkMaps("conv2d", seq, x: x, y: y, height: height, width: width, inChannels: cin, outChannels: cout,
                                     kernel: k, stride: stride, activations: activations)
        let tile = tile ?? seq.device.kernelPolicy.conv2dTile(kernel: k)
        try require(tile.width > 0 && tile.height > 0 && (tile.channelGroups == 1 || tile.channelGroups == 2),
                    "conv2d: bad tile \(tile)")
        let groups = weight.paddedOutChannels / 4
        let invocations = Grid.ceilDiv(oh, tile.height) * Grid.ceilDiv(ow, tile.width) * (groups / tile.channelGroups)
        try require(invocations < Int(UInt32.max) - local * Grid.maxGroups, "conv2d: \(oh)x\(ow)x\(cout) output is too large for 32-bit indexing")
        let shader: ShaderSource
        switch (weight.type, activations) {
        case (.f32, .f32): shader = ShaderLibrary.conv2d_f32
        case (.f16, .f32): shader = ShaderLibrary.conv2d_f16
        case (.f32, .f16): shader = ShaderLibrary.conv2d_f32_a16
        case (.f16, .f16): shader = ShaderLibrary.conv2d_f16_a16
        }
        let pipeline = try seq.device.pipeline(shader, bindings: 4, pushConstantSize: 36,
                                               specialization: [local, k, stride, tile.width, tile.height, tile.channelGroups].map { UInt32($0) })
        let push: [UInt32] = [height, width, cin, oh, ow, cout, groups, weight.hasBias ? 1 : 0, gelu ? 1 : 0].map { UInt32($0) }
        let outputs = Double(oh * ow * cout)
        try seq.dispatch(pipeline, [.read(x), .read(weight.buffer.view), .read(weight.bias.view), .write(y)], push: push,
                         groups: Grid.strided(invocations, local: local), label: label,
                         flops: outputs * Double(2 * k * k * cin) + (gelu ? outputs * 8 : 0),
                         bytes: Double((height * width * cin + oh * ow * cout) * activations.size + weight.buffer.size))
    }
}
