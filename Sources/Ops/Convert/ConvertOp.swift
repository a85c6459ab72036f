import VulkanCore

/// Storage-type conversion of a flat array: fp16 -> fp32 (exact). The vision encoder with fp16
/// activations ends with it, because the language model reads fp32 rows.
public enum ConvertOp {
    static let local = 256

    /// y [count] (fp32) = x [count] (fp16). x and y must not overlap.
    public static func halfToFloat(_ seq: CommandSequence, x: BufferView, y: BufferView, count: Int, label: String = "f16_to_f32") throws {
        try require(count > 0 && x.size >= count * 2 && y.size >= count * 4, "convert: x or y smaller than \(count) values")
        try require(!x.overlaps(y), "convert: x and y overlap")
        try requireActivations(.f16, on: seq.device.capabilities, "convert")
        let pipeline = try seq.device.pipeline(ShaderLibrary.convert, bindings: 2, pushConstantSize: 4, specialization: [UInt32(local)])
        try seq.dispatch(pipeline, [.read(x), .write(y)], push: [UInt32(count)], groups: Grid.strided(count, local: local),
                         label: label, flops: 0, bytes: Double(count * 6))
    }
}
