import VulkanCore

/// Storage-type conversion of a flat array: fp16 -> fp32 (exact), where an fp16 graph hands rows
/// to fp32 code (the vision encoder's output, the decoder's last row before the fp32 logits),
/// and fp32 -> fp16 (the projector's rows spliced into fp16 decoder rows).
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

    /// y[yOffset ..< yOffset + count] (fp16) = x[xOffset ..< xOffset + count] (fp32), rounded to
    /// nearest; offsets in elements, so any row of either buffer can be addressed without a
    /// binding offset. x and y must not overlap.
    public static func floatToHalf(_ seq: CommandSequence, x: BufferView, xOffset: Int = 0, y: BufferView, yOffset: Int = 0, count: Int,
                                   label: String = "f32_to_f16") throws {
        try require(count > 0 && xOffset >= 0 && yOffset >= 0, "convert: \(count) values at offsets \(xOffset), \(yOffset)")
        try require(x.size >= (xOffset + count) * 4 && y.size >= (yOffset + count) * 2,
                    "convert: x (\(x.size) bytes) or y (\(y.size) bytes) smaller than \(count) values at offsets \(xOffset), \(yOffset)")
        try require(!x.overlaps(y), "convert: x and y overlap")
        try requireActivations(.f16, on: seq.device.capabilities, "convert")
        let pipeline = try seq.device.pipeline(ShaderLibrary.convert_to_half, bindings: 2, pushConstantSize: 12, specialization: [UInt32(local)])
        try seq.dispatch(pipeline, [.read(x), .write(y)], push: [UInt32(count), UInt32(xOffset), UInt32(yOffset)],
                         groups: Grid.strided(count, local: local), label: label, flops: 0, bytes: Double(count * 6))
    }
}
