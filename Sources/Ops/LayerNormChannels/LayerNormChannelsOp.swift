import VulkanCore

/// Channel LayerNorm on a CHW fp32 map: per pixel over C, eps inside the sqrt, affine per channel.
public enum LayerNormChannelsOp {
    static let local = 64

    public static func encode(_ seq: CommandSequence, x: BufferView, gamma: BufferView, beta: BufferView, y: BufferView,
                              channels: Int, pixels: Int, eps: Float = 1e-5) throws {
        let n = channels * pixels
        try require(floats(x) >= n && floats(y) >= n && floats(gamma) >= channels && floats(beta) >= channels,
                    "layernorm_channels: buffers smaller than \(channels)x\(pixels)")
        let p = try seq.device.pipeline(ShaderLibrary.layernorm_channels, bindings: 4, pushConstantSize: 12, specialization: [UInt32(local)])
        try seq.dispatch(p, [.read(x), .read(gamma), .read(beta), .write(y)], push: [UInt32(channels), UInt32(pixels), eps.bits],
                         groups: Grid.strided(pixels, local: local), label: "layernorm_channels", flops: Double(n * 8), bytes: Double(n * 12))
    }
}
