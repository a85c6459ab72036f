import Foundation

extension Reference {
    /// Qwen2 GQA attention of T queries at positions L-T..L-1 over caches [L][kvHeads * hd]:
    /// query head i uses kv head i / (heads / kvHeads); causal; fp32 softmax. -> [T][heads * hd]
    public static func causalAttention(q: [Float], tokens t: Int, keys: [Float], values: [Float], length l: Int,
                                       heads: Int, kvHeads: Int, headDim hd: Int) -> [Float] {
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        var out = [Float](repeating: 0, count: t * heads * hd)
        var scores = [Float](repeating: 0, count: l)
        for i in 0..<t {
            let visible = l - t + i + 1
            for h in 0..<heads {
                let kvh = h / group
                let qb = (i * heads + h) * hd
                var m = -Float.infinity
                for j in 0..<visible {
                    let kb = (j * kvHeads + kvh) * hd
                    var s: Float = 0
                    for d in 0..<hd { s += q[qb + d] * keys[kb + d] }
                    scores[j] = s * scale
                    m = max(m, scores[j])
                }
                var sum: Float = 0
                for j in 0..<visible { scores[j] = exp(scores[j] - m); sum += scores[j] }
                for j in 0..<visible {
                    let p = scores[j] / sum
                    let vb = (j * kvHeads + kvh) * hd
                    for d in 0..<hd { out[qb + d] += p * values[vb + d] }
                }
            }
        }
        return out
    }
}
