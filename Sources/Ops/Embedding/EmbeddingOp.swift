import VulkanCore

/// Token embedding: out[t][:] = table[ids[t]][:] as fp32 rows, from a table [vocab][hidden]
/// in any `WeightFormat` (quantized rows are dequantized) (the same LinearWeight can serve as the tied LM head). Tables larger
/// than maxStorageBufferRange (Qwen2-0.5B: 151936 x 896 fp16 = 272 MB) are bound in row
/// slices, one dispatch each. Rows whose id is `imageToken` (or any id outside the table)
/// are left untouched: `splice` copies the projector's image rows there.
public enum EmbeddingOp {
    /// The id marking an image position in the ids buffer.
    public static let imageToken: UInt32 = 0xFFFF_FFFF
    static let local = 256

    /// ids: `tokens` uint32 values; out: [tokens][table.cols] fp32.
    public static func encode(_ seq: CommandSequence, table: LinearWeight, ids: BufferView, out: BufferView, tokens t: Int,
                              label: String = "embedding") throws {
        try encode(seq, table: table, ids: ids, out: out, tokens: t, bindingLimit: seq.device.capabilities.maxStorageBufferRange, label: label)
    }

    /// `bindingLimit` lets tests split small tables the way large ones are split.
    static func encode(_ seq: CommandSequence, table: LinearWeight, ids: BufferView, out: BufferView, tokens t: Int,
                       bindingLimit: Int, label: String = "embedding") throws {
        let (vocab, hidden) = (table.rows, table.cols)
        try require(t > 0 && ids.size >= t * 4, "embedding: ids hold \(ids.size / 4) values, needs \(t)")
        try require(floats(out) >= t * hidden, "embedding: out holds \(floats(out)) floats, needs \(t)x\(hidden)")
        let shader = try ShaderLibrary.variant("embedding_" + table.format.rawValue, in: ShaderLibrary.embedding_variants,
                                               "embedding: no kernel for a \(table.format) table")
        let pipeline = try seq.device.pipeline(shader, bindings: 3, pushConstantSize: 16, specialization: [UInt32(local)])
        var caps = seq.device.capabilities
        caps.maxStorageBufferRange = min(caps.maxStorageBufferRange, bindingLimit)
        let slices = LinearOp.slices(rows: vocab, rowBytes: table.rowBytes, caps: caps)
        for slice in slices {
            let rows = table.rowSlice(first: slice.lowerBound, count: slice.count)
            try seq.dispatch(pipeline, [.read(rows), .read(ids), .write(out)],
                             push: [UInt32(t), UInt32(hidden), UInt32(slice.lowerBound), UInt32(slice.count)],
                             groups: Grid.strided(t * hidden, local: local), label: label,
                             bytes: Double(t * (hidden * 4 + table.rowBytes)) / Double(slices.count))
        }
    }

    /// Copies `count` rows [count][hidden] of `rows` (the projector output) into rows
    /// first ..< first + count of `out` (fp32 [T][hidden]).
    public static func splice(_ seq: CommandSequence, rows: BufferView, into out: BufferView, at first: Int, count: Int, hidden: Int) throws {
        let bytes = count * hidden * 4
        try require(first >= 0 && count > 0 && rows.size >= bytes, "embedding splice: the image rows hold \(rows.size) bytes, need \(bytes)")
        try require(out.size >= (first + count) * hidden * 4, "embedding splice: rows \(first) ..< \(first + count) do not fit out")
        try seq.copy(from: rows.slice(offset: 0, size: bytes), to: out.slice(offset: first * hidden * 4, size: bytes))
    }
}
