import Foundation

extension Reference {
    public static func add(_ a: Float, _ b: Float) -> Float { a + b }
    public static func mul(_ a: Float, _ b: Float) -> Float { a * b }
    /// GELU, exact erf form (PyTorch nn.GELU()).
    public static func gelu(_ x: Float) -> Float { Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))) }
    public static func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
    public static func relu(_ x: Float) -> Float { max(0, x) }
}

extension Reference {
    /// silu(x[t][i]) * x[t][width + i] for x [rows][2 * width] (SwiGLUOp).
    public static func swiGLU(_ x: [Float], rows: Int, width: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * width)
        for t in 0..<rows {
            for i in 0..<width { y[t * width + i] = silu(x[t * 2 * width + i]) * x[t * 2 * width + width + i] }
        }
        return y
    }
}
