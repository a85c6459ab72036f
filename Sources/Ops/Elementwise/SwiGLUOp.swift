import VulkanCore

/// y[t][i] = silu(x[t][i]) * x[t][width + i] for x [rows][2 * width] (Shaders/swiglu.comp):
/// the gated MLP's silu(gate) * up after one GEMM over the stacked [gate; up] weight, so
/// the two projections cost one dispatch and the product a second.
public enum SwiGLUOp {
    static let local = 256

    public static func encode(_ seq: CommandSequence, x: BufferView, y: BufferView, rows: Int, width: Int,
                              activations: StorageType = .f32, label: String = "swiglu") throws {
        let a = activations.size
        try require(rows > 0 && width > 0, "swiglu: empty shape \(rows)x\(width)")
        try require(x.size >= rows * 2 * width * a, "swiglu: x holds \(x.size) bytes, needs \(rows)x\(2 * width) \(activations)")
        try require(y.size >= rows * width * a, "swiglu: y holds \(y.size) bytes, needs \(rows)x\(width) \(activations)")
        if activations == .f16 {
            try require(seq.device.capabilities.storageBuffer16BitAccess, "swiglu: fp16 activations need storageBuffer16BitAccess")
        }
        let shader = activations == .f16 ? ShaderLibrary.swiglu_a16 : ShaderLibrary.swiglu
        let p = try seq.device.pipeline(shader, bindings: 2, pushConstantSize: 8, specialization: [UInt32(local)])
        let count = rows * width
        let groups = (min(Grid.ceilDiv(width, local), Grid.maxGroups), min(rows, Grid.maxGroups), 1)
        try seq.dispatch(p, [.read(x), .write(y)], push: [UInt32(rows), UInt32(width)], groups: groups,
                         label: label, flops: Double(count) * 10, bytes: Double(count * 3 * a))
    }
}
