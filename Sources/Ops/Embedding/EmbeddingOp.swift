import VulkanCore

/// Token embedding: out[t][:] = table[ids[t]][:] as fp32 or fp16 rows (`activations`), from a table [vocab][hidden]
/// in any `WeightFormat` (quantized rows are dequantized) (the same LinearWeight can serve as the tied LM head). Tables larger
/// than maxStorageBufferRange (Qwen2-0.5B: 151936 x 896 fp16 = 272 MB) are bound in row
/// slices, one dispatch each. Rows whose id is `imageToken` (or any id outside the table)
/// are left untouched: `splice` copies the projector's image rows there.
public enum EmbeddingOp {
    /// The id marking an image position in the ids buffer.
    public static let imageToken: UInt32 = 0xFFFF_FFFF
    static let local = 256

    /// ids: `tokens` uint32 values; out: [tokens][table.cols] stored as `activations`.
    public static func encode(_ seq: CommandSequence, table: LinearWeight, ids: BufferView, out: BufferView, tokens t: Int,
                              activations: StorageType = .f32, label: String = "embedding") throws {
        try encode(seq, table: table, ids: ids, out: out, tokens: t, bindingLimit: seq.device.capabilities.maxStorageBufferRange,
                   activations: activations, label: label)
    }

    /// `bindingLimit` lets tests split small tables the way large ones are split.
    static func encode(_ seq: CommandSequence, table: LinearWeight, ids: BufferView, out: BufferView, tokens t: Int,
                       bindingLimit: Int, activations: StorageType = .f32, label: String = "embedding") throws {
        let (vocab, hidden) = (table.rows, table.cols)
        try require(t > 0 && ids.size >= t * 4, "embedding: ids hold \(ids.size / 4) values, needs \(t)")
        try require(out.size >= t * hidden * activations.size, "embedding: out holds \(out.size) bytes, needs \(t)x\(hidden) \(activations)")
        try requireActivations(activations, on: seq.device.capabilities, "embedding")
        let name = "embedding_" + table.format.rawValue + (activations == .f16 ? "_a16" : "")
        let shader = try ShaderLibrary.variant(name, in: ShaderLibrary.embedding_variants,
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
                             bytes: Double(t * (hidden * activations.size + table.rowBytes)) / Double(slices.count))
        }
    }

    /// Copies `count` fp32 rows [count][hidden] of `rows` from row `row` on (the projector
    /// output) into rows first ..< first + count of `out` ([T][hidden] stored as `activations`:
    /// fp16 rows are converted on the device, a copy otherwise).
    public static func splice(_ seq: CommandSequence, rows: BufferView, from row: Int = 0, into out: BufferView, at first: Int, count: Int,
                              hidden: Int, activations: StorageType = .f32) throws {
        let bytes = count * hidden * 4
        try require(first >= 0 && row >= 0 && count > 0 && rows.size >= (row + count) * hidden * 4,
                    "embedding splice: the image rows hold \(rows.size) bytes, need \(row + count) rows of \(hidden) floats")
        try require(out.size >= (first + count) * hidden * activations.size, "embedding splice: rows \(first) ..< \(first + count) do not fit out")
        if activations == .f16 {
            try ConvertOp.floatToHalf(seq, x: rows, xOffset: row * hidden, y: out, yOffset: first * hidden, count: count * hidden, label: "image_rows_to_f16")
        } else {
            try seq.copy(from: rows.slice(offset: row * hidden * 4, size: bytes), to: out.slice(offset: first * hidden * 4, size: bytes))
        }
    }
}
