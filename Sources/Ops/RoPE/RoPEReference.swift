import Foundation

extension Reference {
    /// Half-rotation (NeoX) RoPE in place on rows [T][heads * headDim] at positions
    /// p0..p0+T-1: x' = x cos + rotate_half(x) sin, inv_freq[j] = theta^(-2j/hd) in fp32 as
    /// transformers computes it.
    public static func rope(_ x: inout [Float], tokens t: Int, heads: Int, headDim hd: Int, firstPosition p0: Int, theta: Float) {
        let half = hd / 2
        let invFreq = (0..<half).map { j in Float(1.0 / pow(Double(theta), Double(2 * j) / Double(hd))) }
        for i in 0..<t {
            let pos = Float(p0 + i)
            for h in 0..<heads {
                let base = (i * heads + h) * hd
                for j in 0..<half {
                    let angle = pos * invFreq[j]
                    let (c, s) = (cos(angle), sin(angle))
                    let (a, b) = (x[base + j], x[base + j + half])
                    x[base + j] = a * c - b * s
                    x[base + j + half] = b * c + a * s
                }
            }
        }
    }
}
