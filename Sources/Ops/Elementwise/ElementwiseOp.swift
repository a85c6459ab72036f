import VulkanCore

/// y = a + b, a * b, gelu(a), silu(a) over arrays of `count` elements (fp32 or fp16 storage).
public enum ElementwiseOp {
    public enum Kind { case add, mul, gelu, silu }

    static let local = 256

    public static func encode(_ seq: CommandSequence, _ kind: Kind, a: BufferView, b: BufferView? = nil, y: BufferView, count: Int,
                              activations: StorageType = .f32) throws {
        let half = activations == .f16
        let shader: ShaderSource
        switch kind {
        case .add: shader = half ? ShaderLibrary.elementwise_add_a16 : ShaderLibrary.elementwise_add
        case .mul: shader = half ? ShaderLibrary.elementwise_mul_a16 : ShaderLibrary.elementwise_mul
        case .gelu: shader = half ? ShaderLibrary.elementwise_gelu_a16 : ShaderLibrary.elementwise_gelu
        case .silu: shader = half ? ShaderLibrary.elementwise_silu_a16 : ShaderLibrary.elementwise_silu
        }
        let binary = kind == .add || kind == .mul
        let bytes = count * activations.size
        try require(a.size >= bytes && y.size >= bytes, "elementwise: buffers smaller than \(count) elements")
        let other = b ?? a
        if binary { try require(b != nil && other.size >= bytes, "elementwise \(kind): needs a second operand of \(count) elements") }
        let p = try seq.device.pipeline(shader, bindings: 3, pushConstantSize: 4, specialization: [UInt32(local)])
        try seq.dispatch(p, [.read(a), .read(other), .write(y)], push: [UInt32(count)], groups: Grid.strided(count, local: local),
                         label: shader.name, flops: Double(count) * (binary ? 1 : 8), bytes: Double(bytes * (binary ? 3 : 2)))
    }
}
