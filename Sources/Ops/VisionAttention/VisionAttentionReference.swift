import Foundation

extension Reference {
    /// FastViTHD MHSA on tokens [N][C]: qkv = X Wqkv^T ([q|k|v], heads of `headDim`),
    /// softmax(q k^T / sqrt(headDim)) v per head, heads concatenated, then proj (with bias).
    public static func visionAttention(tokens x: [Float], count n: Int, channels c: Int, qkvWeight: [Float],
                                       projWeight: [Float], projBias: [Float]?, headDim: Int = 32) -> [Float] {
        let qkv = linear(x: x, m: n, k: c, weight: qkvWeight, n: 3 * c, bias: nil)
        let attended = multiHeadAttention(qkv: qkv, count: n, channels: c, headDim: headDim)
        return linear(x: attended, m: n, k: c, weight: projWeight, n: c, bias: projBias)
    }

    /// The attention core on qkv rows [N][3C] -> [N][C], no mask.
    public static func multiHeadAttention(qkv: [Float], count n: Int, channels c: Int, headDim: Int) -> [Float] {
        let heads = c / headDim
        let scale = 1 / Float(headDim).squareRoot()
        var out = [Float](repeating: 0, count: n * c)
        var scores = [Float](repeating: 0, count: n)
        for h in 0..<heads {
            for i in 0..<n {
                let q = i * 3 * c + h * headDim
                var m = -Float.infinity
                for j in 0..<n {
                    let k = j * 3 * c + c + h * headDim
                    var s: Float = 0
                    for d in 0..<headDim { s += qkv[q + d] * qkv[k + d] }
                    scores[j] = s * scale
                    m = max(m, scores[j])
                }
                var sum: Float = 0
                for j in 0..<n { scores[j] = exp(scores[j] - m); sum += scores[j] }
                for j in 0..<n {
                    let p = scores[j] / sum
                    let v = j * 3 * c + 2 * c + h * headDim
                    for d in 0..<headDim { out[i * c + h * headDim + d] += p * qkv[v + d] }
                }
            }
        }
        return out
    }
}
