import VulkanCore

/// y = a + b, a * b, gelu(a), silu(a) over fp32 arrays of `count` elements.
public enum ElementwiseOp {
    public enum Kind { case add, mul, gelu, silu }

    static let local = 256

    public static func encode(_ seq: CommandSequence, _ kind: Kind, a: BufferView, b: BufferView? = nil, y: BufferView, count: Int) throws {
        let shader: ShaderSource
        switch kind {
        case .add: shader = ShaderLibrary.elementwise_add
        case .mul: shader = ShaderLibrary.elementwise_mul
        case .gelu: shader = ShaderLibrary.elementwise_gelu
        case .silu: shader = ShaderLibrary.elementwise_silu
        }
        let binary = kind == .add || kind == .mul
        try require(floats(a) >= count && floats(y) >= count, "elementwise: buffers smaller than \(count) elements")
        let other = b ?? a
        if binary { try require(b != nil && floats(other) >= count, "elementwise \(kind): needs a second operand of \(count) elements") }
        let p = try seq.device.pipeline(shader, bindings: 3, pushConstantSize: 4, specialization: [UInt32(local)])
        try seq.dispatch(p, [.read(a), .read(other), .write(y)], push: [UInt32(count)], groups: Grid.strided(count, local: local),
                         label: shader.name, flops: Double(count) * (binary ? 1 : 8), bytes: Double(count * 4 * (binary ? 3 : 2)))
    }
}
