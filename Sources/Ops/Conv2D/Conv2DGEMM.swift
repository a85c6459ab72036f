import VulkanCore

extension Conv2DOp {
    /// A dense conv weight for the implicit-GEMM kernel: OIHW reordered to [C_out][k][k][C_in]
    /// rows (K index (ky * k + kx) * C_in + c) in fp32 or fp16 (the vision tower's formats), and the bias.
    public final class GEMMWeight {
        public let weight: LinearWeight
        public let bias: DeviceBuffer?
        public let outChannels: Int
        public let inChannels: Int
        public let kernel: Int

        /// `values`: OIHW [outChannels][inChannels][kernel][kernel]; `bias`: [outChannels] or nil.
        public init(device: Device, values: [Float], bias: [Float]?, outChannels: Int, inChannels: Int, kernel: Int,
                    format: WeightFormat) throws {
            try Weight.check("conv2d gemm", values: values, bias: bias, outChannels: outChannels, inChannels: inChannels, kernel: kernel)
            let taps = kernel * kernel, cols = taps * inChannels
            try require(format == .f32 || format == .f16, "conv2d gemm weight: \(format) weights are not supported (f32 or f16)")
            var rows = [Float](repeating: 0, count: outChannels * cols)
            for o in 0..<outChannels {
                for c in 0..<inChannels {
                    for t in 0..<taps { rows[o * cols + t * inChannels + c] = values[(o * inChannels + c) * taps + t] }
                }
            }
            weight = try LinearWeight(device: device, values: rows, rows: outChannels, cols: cols, format: format)
            self.bias = try bias.map { try device.upload($0) }
            (self.outChannels, self.inChannels, self.kernel) = (outChannels, inChannels, kernel)
        }
    }

    /// y [OH][OW][C_out] = act(conv(x [height][width][C_in]) + b) as an implicit GEMM on the
    /// register-blocked tiled kernel (Shaders/conv2d_gemm.comp): GPUs' path for dense k x k convs.
    public static func encodeGEMM(_ seq: CommandSequence, x: BufferView, weight: GEMMWeight, y: BufferView, height: Int, width: Int,
                                  stride: Int = 1, gelu: Bool = false, activations: StorageType = .f32, label: String = "conv2d_gemm") throws {
        let caps = seq.device.capabilities
        let (cin, cout, k) = (weight.inChannels, weight.outChannels, weight.kernel)
        let (oh, ow) = try checkMaps("conv2d gemm", seq, x: x, y: y, height: height, width: width, inChannels: cin, outChannels: cout,
                                     kernel: k, stride: stride, activations: activations)
        try require(height * width * cin < Int(Int32.max) && oh * ow * cout < Int(UInt32.max), "conv2d gemm: map too large for 32-bit indexing")
        try require(weight.weight.byteCount <= caps.maxStorageBufferRange, "conv2d gemm: the weight exceeds one storage binding")
        let (m, kk) = (oh * ow, k * k * cin)
        guard let tile = GEMMTiles.simt(caps: caps, m: m, n: cout), Grid.ceilDiv(m, tile.tileM) <= Grid.maxGroups else {
            throw OpError("conv2d gemm: \(caps.name) cannot run the tiled GEMM for \(oh)x\(ow) outputs" + LinearOp.unsupportedReason(.tiled, caps: caps))
        }
        let name = "conv2d_gemm_" + weight.weight.format.rawValue + (activations == .f16 ? "_a16" : "")
        let shader = try ShaderLibrary.variant(name, in: ShaderLibrary.conv2d_gemm_variants, "conv2d gemm: no kernel \(name)")
        let pipeline = try seq.device.pipeline(shader, bindings: 6, pushConstantSize: 60, specialization: tile.specialization)
        let push: [UInt32] = [m, cout, kk, 0, cout, weight.bias == nil ? 0 : 1, gelu ? 1 : 0, 0, 0, height, width, cin, ow, k, stride].map { UInt32($0) }
        let outputs = Double(m * cout)
        try seq.dispatch(pipeline, [.read(x), .read(weight.weight.rowSlice(first: 0, count: cout)), .read(weight.bias?.view ?? x), .write(y), .read(x), .read(x)], push: push,
                         groups: (Grid.ceilDiv(cout, tile.tileN), Grid.ceilDiv(m, tile.tileM), 1), label: label,
                         flops: outputs * Double(2 * kk) + (gelu ? outputs * 8 : 0),
                         bytes: Double((height * width * cin + m * cout) * activations.size + weight.weight.byteCount))
    }
}
