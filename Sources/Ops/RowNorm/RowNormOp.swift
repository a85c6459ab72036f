import VulkanCore

/// RMSNorm (Qwen2) and LayerNorm over rows, fp32 statistics. On an HWC feature map with
/// rows = pixels, LayerNorm is FastViTHD's channel LayerNorm.
public enum RowNormOp {
    public enum Kind: Sendable { case rms, layer }
    static let local = 128

    /// `activations`: the storage of X; `output`: of Y, X's when nil. fp16 Y over fp32 X
    /// (RMSNorm only) normalises a decoder's fp32 residual stream into its fp16 rows.
    public static func encode(_ seq: CommandSequence, _ kind: Kind, x: BufferView, weight: BufferView, bias: BufferView? = nil, y: BufferView,
                              rows: Int, width: Int, eps: Float, activations: StorageType = .f32, output: StorageType? = nil) throws {
        let out = output ?? activations
        try require(x.size >= rows * width * activations.size && y.size >= rows * width * out.size && floats(weight) >= width,
                    "row norm: buffers smaller than \(rows)x\(width)")
        if kind == .layer { try require(bias.map { floats($0) >= width } ?? false, "layernorm: needs a bias of \(width) values") }
        let shader: ShaderSource
        switch (kind, activations, out) {
        case (.rms, .f32, .f32): shader = ShaderLibrary.rmsnorm
        case (.rms, .f16, .f16): shader = ShaderLibrary.rmsnorm_a16
        case (.rms, .f32, .f16): shader = ShaderLibrary.rmsnorm_a16_in32
        case (.layer, .f32, .f32): shader = ShaderLibrary.layernorm
        case (.layer, .f16, .f16): shader = ShaderLibrary.layernorm_a16
        default: throw OpError("row norm: no \(kind) kernel writes \(out) rows from \(activations) rows (mixed storage: RMSNorm, fp32 in, fp16 out)")
        }
        let p = try seq.device.pipeline(shader, bindings: 4, pushConstantSize: 12, specialization: [UInt32(local)])
        try seq.dispatch(p, [.read(x), .read(weight), .read(bias ?? weight), .write(y)], push: [UInt32(rows), UInt32(width), eps.bits],
                         groups: Grid.rows(rows), label: kind == .rms ? "rmsnorm" : "layernorm",
                         flops: Double(rows * width * 5), bytes: Double(rows * width * (activations.size + out.size)))
    }
}
