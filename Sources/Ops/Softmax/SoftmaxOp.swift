import VulkanCore

/// Softmax over each of `rows` rows of `width` fp32 values (y may alias x).
public enum SoftmaxOp {
    static let local = 128

    public static func encode(_ seq: CommandSequence, x: BufferView, y: BufferView, rows: Int, width: Int) throws {
        try require(floats(x) >= rows * width && floats(y) >= rows * width, "softmax: buffers smaller than \(rows)x\(width)")
        let p = try seq.device.pipeline(ShaderLibrary.softmax, bindings: 2, pushConstantSize: 8, specialization: [UInt32(local)])
        try seq.dispatch(p, [.read(x), .write(y)], push: [UInt32(rows), UInt32(width)], groups: Grid.rows(rows),
                         label: "softmax", flops: Double(rows * width * 5), bytes: Double(rows * width * 8))
    }
}
