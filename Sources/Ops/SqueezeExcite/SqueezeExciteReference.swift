extension Reference {
    /// x * sigmoid(W2 relu(W1 mean_hw(x) + b1) + b2) on CHW, broadcast over pixels.
    public static func squeezeExcite(_ x: [Float], channels c: Int, pixels p: Int, reduceWeight: [Float], reduceBias: [Float],
                                     reduced r: Int, expandWeight: [Float], expandBias: [Float]) -> [Float] {
        var mean = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            var s: Float = 0
            for i in 0..<p { s += x[ch * p + i] }
            mean[ch] = s / Float(p)
        }
        let hidden = linear(x: mean, m: 1, k: c, weight: reduceWeight, n: r, bias: reduceBias).map(relu)
        let gate = linear(x: hidden, m: 1, k: r, weight: expandWeight, n: c, bias: expandBias).map(sigmoid)
        var y = x
        for ch in 0..<c { for i in 0..<p { y[ch * p + i] *= gate[ch] } }
        return y
    }
}
