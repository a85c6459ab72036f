import Foundation

extension Reference {
    /// Numerically stable softmax over each row.
    public static func softmax(_ x: [Float], rows: Int, width: Int) -> [Float] {
        var y = x
        for r in 0..<rows {
            let base = r * width
            var m = -Float.infinity
            for i in 0..<width { m = max(m, x[base + i]) }
            var s: Float = 0
            for i in 0..<width { y[base + i] = exp(x[base + i] - m); s += y[base + i] }
            for i in 0..<width { y[base + i] /= s }
        }
        return y
    }
}
