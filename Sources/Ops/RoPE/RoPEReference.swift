import Foundation

extension Reference {
    /// inv_freq[j] = 1 / theta^(2j / hd), j < hd / 2, rounded as transformers computes it in
    /// fp32: the power rounded to fp32, then an fp32 reciprocal.
    public static func ropeInverseFrequencies(headDim hd: Int, theta: Float) -> [Float] {
        (0..<hd / 2).map { j in
            let exponent = Float(2 * j) / Float(hd)
            let power = Float(pow(Double(theta), Double(exponent)))
            return 1 / power
        }
    }

    /// Half-rotation (NeoX / rotate_half) RoPE in place on rows [T][heads][hd], row i at
    /// `positions[i]`: with a = p inv_freq[j] (an fp32 product), for j < hd / 2
    ///   x'[j] = x[j] cos a - x[j + hd/2] sin a,   x'[j + hd/2] = x[j + hd/2] cos a + x[j] sin a,
    /// i.e. x cos + rotate_half(x) sin with rotate_half(x) = [-x[hd/2:], x[:hd/2]].
    public static func rope(_ x: inout [Float], tokens t: Int, heads: Int, headDim hd: Int, positions: [Int], theta: Float) {
        precondition(hd % 2 == 0 && x.count == t * heads * hd, "rope: \(x.count) values is not \(t)x\(heads)x\(hd)")
        precondition(positions.count == t, "rope: \(positions.count) positions for \(t) tokens")
        let half = hd / 2
        let invFreq = ropeInverseFrequencies(headDim: hd, theta: theta)
        var cosines = [Float](repeating: 0, count: half), sines = cosines
        for i in 0..<t {
            for j in 0..<half {
                let angle = Float(positions[i]) * invFreq[j]
                cosines[j] = cos(angle)
                sines[j] = sin(angle)
            }
            for h in 0..<heads {
                let base = (i * heads + h) * hd
                for j in 0..<half {
                    let (a, b) = (x[base + j], x[base + j + half])
                    x[base + j] = a * cosines[j] - b * sines[j]
                    x[base + j + half] = b * cosines[j] + a * sines[j]
                }
            }
        }
    }

    /// RoPE at consecutive positions p0, p0 + 1, ..., p0 + T - 1 (prefill and decode with a
    /// cache of p0 tokens).
    public static func rope(_ x: inout [Float], tokens t: Int, heads: Int, headDim hd: Int, firstPosition p0: Int, theta: Float) {
        rope(&x, tokens: t, heads: heads, headDim: hd, positions: Array(p0..<p0 + t), theta: theta)
    }
}
