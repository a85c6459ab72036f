import VulkanCore

/// Greedy sampling on the device: the index of the largest of `count` logits (ties to the
/// lowest index, as Reference.argmax) written as one uint32 to `result`, so decode reads
/// back 4 bytes per token. Two passes (Shaders/argmax.comp): contiguous blocks reduced in
/// parallel, then one workgroup over the partials.
public enum ArgmaxOp {
    static let local = 128
    static let maxPartials = 128

    static func partialCount(_ count: Int) -> Int { max(1, min(maxPartials, Grid.ceilDiv(count, local * 8))) }

    /// Bytes of the scratch buffer `encode` needs for `count` logits.
    public static func scratchBytes(count: Int) -> Int { partialCount(count) * 8 }

    public static func encode(_ seq: CommandSequence, logits: BufferView, count: Int, scratch: BufferView, result: BufferView,
                              label: String = "argmax") throws {
        try require(count > 0 && floats(logits) >= count, "argmax: logits hold \(floats(logits)) floats, need \(count)")
        try require(scratch.size >= scratchBytes(count: count), "argmax: scratch holds \(scratch.size) bytes, needs \(scratchBytes(count: count))")
        try require(result.size >= 4, "argmax: the result buffer holds no uint")
        let partials = partialCount(count)
        let block = Grid.ceilDiv(count, partials)
        let push = [UInt32(count), UInt32(block), UInt32(partials)]
        let scratchView = scratch.slice(offset: 0, size: partials * 8)
        let first = try seq.device.pipeline(ShaderLibrary.argmax_partial, bindings: 3, pushConstantSize: 12, specialization: [UInt32(local)])
        try seq.dispatch(first, [.read(logits), .write(scratchView), .read(logits)], push: push, groups: (partials, 1, 1),
                         label: label + ".partial", flops: Double(count), bytes: Double(count * 4))
        let second = try seq.device.pipeline(ShaderLibrary.argmax_final, bindings: 3, pushConstantSize: 12, specialization: [UInt32(local)])
        try seq.dispatch(second, [.read(logits), .read(scratchView), .write(result)], push: push, groups: (1, 1, 1),
                         label: label + ".final", flops: Double(partials), bytes: Double(partials * 8 + 4))
    }
}
