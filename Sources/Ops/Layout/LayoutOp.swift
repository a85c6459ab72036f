import VulkanCore

/// Layout conversions of feature maps between PyTorch's CHW and the GPU's HWC
/// (pixel-major, channels contiguous): the preprocessed fp32 image [3][S][S] goes in as CHW
/// (and comes out as an fp32 or fp16 map), and fp32 HWC maps come back as CHW for comparisons
/// and dumps. Both are one transpose kernel.
public enum LayoutOp {
    static let local = 256

    /// x [channels][height*width] (fp32) -> y [height*width][channels] stored as `activations`.
    public static func chwToHWC(_ seq: CommandSequence, x: BufferView, y: BufferView, channels: Int, height: Int, width: Int,
                                activations: StorageType = .f32) throws {
        try transpose(seq, x: x, y: y, rows: channels, cols: height * width, output: activations, label: "chw_to_hwc")
    }

    /// x [height*width][channels] -> y [channels][height*width].
    public static func hwcToCHW(_ seq: CommandSequence, x: BufferView, y: BufferView, channels: Int, height: Int, width: Int) throws {
        try transpose(seq, x: x, y: y, rows: height * width, cols: channels, label: "hwc_to_chw")
    }

    /// y [cols][rows] = x [rows][cols]^T; x is fp32, y stored as `output`. x and y must not overlap.
    public static func transpose(_ seq: CommandSequence, x: BufferView, y: BufferView, rows: Int, cols: Int, output: StorageType = .f32,
                                 label: String = "transpose") throws {
        let n = rows * cols
        try require(rows > 0 && cols > 0, "transpose: bad shape \(rows)x\(cols)")
        try require(floats(x) >= n && y.size >= n * output.size, "transpose: x or y smaller than \(rows)x\(cols)")
        try requireActivations(output, on: seq.device.capabilities, label)
        try require(!x.overlaps(y), "transpose: x and y overlap")
        try require(n < Int(UInt32.max) - local * Grid.maxGroups, "transpose: \(rows)x\(cols) is too large for 32-bit indexing")
        let pipeline = try seq.device.pipeline(output == .f16 ? ShaderLibrary.layout_a16 : ShaderLibrary.layout, bindings: 2, pushConstantSize: 8,
                                               specialization: [UInt32(local)])
        try seq.dispatch(pipeline, [.read(x), .write(y)], push: [UInt32(rows), UInt32(cols)], groups: Grid.strided(n, local: local),
                         label: label, flops: 0, bytes: Double(n * (4 + output.size)))
    }
}

extension BufferView {
    /// Whether two views share bytes (distinct DeviceBuffers never do). Kernels whose
    /// invocations read elements that other invocations write (transposes, convolutions)
    /// refuse overlapping input and output.
    func overlaps(_ other: BufferView) -> Bool {
        buffer === other.buffer && offset < other.offset + other.size && other.offset < offset + size
    }
}
