import VulkanCore

/// RMSNorm (Qwen2) and LayerNorm over rows, fp32 statistics. On an HWC feature map with
/// rows = pixels, LayerNorm is FastViTHD's channel LayerNorm.
public enum RowNormOp {
    public enum Kind: Sendable { case rms, layer }
    static let local = 128

    public static func encode(_ seq: CommandSequence, _ kind: Kind, x: BufferView, weight: BufferView, bias: BufferView? = nil, y: BufferView,
                              rows: Int, width: Int, eps: Float, activations: StorageType = .f32) throws {
        let a = activations.size
        try require(x.size >= rows * width * a && y.size >= rows * width * a && floats(weight) >= width, "row norm: buffers smaller than \(rows)x\(width)")
        if kind == .layer { try require(bias.map { floats($0) >= width } ?? false, "layernorm: needs a bias of \(width) values") }
        let shader: ShaderSource
        switch (kind, activations) {
        case (.rms, .f32): shader = ShaderLibrary.rmsnorm
        case (.rms, .f16): shader = ShaderLibrary.rmsnorm_a16
        case (.layer, .f32): shader = ShaderLibrary.layernorm
        case (.layer, .f16): shader = ShaderLibrary.layernorm_a16
        }
        let p = try seq.device.pipeline(shader, bindings: 4, pushConstantSize: 12, specialization: [UInt32(local)])
        try seq.dispatch(p, [.read(x), .read(weight), .read(bias ?? weight), .write(y)], push: [UInt32(rows), UInt32(width), eps.bits],
                         groups: Grid.rows(rows), label: kind == .rms ? "rmsnorm" : "layernorm",
                         flops: Double(rows * width * 5), bytes: Double(rows * width * 2 * a))
    }
}
