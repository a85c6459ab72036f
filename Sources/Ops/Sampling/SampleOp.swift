import VulkanCore

/// Reference.sample on the device (Shaders/sample.comp): temperature, top-k, top-p and one
/// draw over the first `count` logits, the chosen id written as one uint32 to `result`.
/// The parameters and the uniform draw live in a 16-byte device buffer (`parameterWords`),
/// so a recorded decode step replays with new values after a tiny host write. Greedy
/// parameters give the argmax (lowest index on ties), as the reference does.
///
/// One workgroup searches the sorted order byte by byte with histograms, so the cost is a
/// few passes over the logits whatever k and p are, and no sort. Probability mass is
/// summed in 64-bit fixed point: the same token as the reference except for a draw within
/// about 1e-7 (relative) of a boundary between two tokens.
public enum SampleOp {
    static let local = 256

    /// Bytes of the parameter buffer.
    public static let parameterBytes = 16

    /// The parameter buffer's contents: temperature, top-k (0 = off), top-p, uniform draw.
    public static func parameterWords(_ p: SamplingParameters, draw: Float) -> [UInt32] {
        [p.temperature.bitPattern, UInt32(clamping: max(0, p.topK)), p.topP.bitPattern, draw.bitPattern]
    }

    public static func encode(_ seq: CommandSequence, logits: BufferView, count: Int, parameters: BufferView, result: BufferView,
                              label: String = "sample") throws {
        try require(count > 0 && floats(logits) >= count, "sample: logits hold \(floats(logits)) floats, need \(count)")
        try require(count < Int(UInt32.max), "sample: \(count) logits exceed the 32-bit index range")
        try require(parameters.size >= parameterBytes, "sample: the parameter buffer holds \(parameters.size) bytes, needs \(parameterBytes)")
        try require(result.size >= 4, "sample: the result buffer holds no uint")
        let caps = seq.device.capabilities
        let size = max(1, min(local, caps.maxComputeWorkGroupInvocations))
        let pipeline = try seq.device.pipeline(ShaderLibrary.sample, bindings: 3, pushConstantSize: 4, specialization: [UInt32(size)])
        // About a dozen passes over the row in the worst case (each search stops early).
        try seq.dispatch(pipeline, [.read(logits), .read(parameters), .write(result)], push: [UInt32(count)], groups: (1, 1, 1),
                         label: label, flops: Double(count) * 12 * 4, bytes: Double(count) * 4 * 12)
    }
}
