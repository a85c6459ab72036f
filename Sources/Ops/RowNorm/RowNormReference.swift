import Foundation

extension Reference {
    /// Qwen2 RMSNorm per row: w * x / sqrt(mean(x^2) + eps), statistics in fp32.
    public static func rmsNorm(_ x: [Float], rows: Int, width: Int, weight: [Float], eps: Float) -> [Float] {
        var y = x
        for r in 0..<rows {
            let base = r * width
            var ss: Float = 0
            for i in 0..<width { ss += x[base + i] * x[base + i] }
            let scale = 1 / (ss / Float(width) + eps).squareRoot()
            for i in 0..<width { y[base + i] = weight[i] * (x[base + i] * scale) }
        }
        return y
    }

    /// Channel LayerNorm on CHW: per pixel over C, mean then biased variance (Apple's
    /// LayerNormChannel), eps inside the sqrt, then the per-channel affine.
    public static func layerNormChannels(_ x: [Float], channels c: Int, height h: Int, width w: Int, gamma: [Float], beta: [Float], eps: Float) -> [Float] {
        let p = h * w
        var y = x
        var mean = [Float](repeating: 0, count: p), variance = [Float](repeating: 0, count: p)
        for ch in 0..<c { for i in 0..<p { mean[i] += x[ch * p + i] } }
        for i in 0..<p { mean[i] /= Float(c) }
        for ch in 0..<c { for i in 0..<p { let d = x[ch * p + i] - mean[i]; variance[i] += d * d } }
        for i in 0..<p { variance[i] = 1 / (variance[i] / Float(c) + eps).squareRoot() }
        for ch in 0..<c { for i in 0..<p { y[ch * p + i] = (x[ch * p + i] - mean[i]) * variance[i] * gamma[ch] + beta[ch] } }
        return y
    }
}
