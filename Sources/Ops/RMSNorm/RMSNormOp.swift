import VulkanCore

/// RMSNorm over `rows` rows of `width` fp32 values with an fp32 weight (Qwen2).
public enum RMSNormOp {
    static let local = 128

    public static func encode(_ seq: CommandSequence, x: BufferView, weight: BufferView, y: BufferView, rows: Int, width: Int, eps: Float) throws {
        try require(floats(x) >= rows * width && floats(y) >= rows * width && floats(weight) >= width, "rmsnorm: buffers smaller than \(rows)x\(width)")
        let p = try seq.device.pipeline(ShaderLibrary.rmsnorm, bindings: 3, pushConstantSize: 12, specialization: [UInt32(local)])
        try seq.dispatch(p, [.read(x), .read(weight), .write(y)], push: [UInt32(rows), UInt32(width), eps.bits], groups: Grid.rows(rows),
                         label: "rmsnorm", flops: Double(rows * width * 4), bytes: Double(rows * width * 8))
    }
}
