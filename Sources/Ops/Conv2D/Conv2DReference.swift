import Dispatch

extension Reference {
    /// Output side of a k x k convolution with stride s and zero padding k/2.
    public static func convOutputSize(_ size: Int, kernel: Int, stride: Int) -> Int { (size + 2 * (kernel / 2) - kernel) / stride + 1 }

    /// Grouped 2-D convolution on CHW with zero padding k/2: weight OIHW [out][in/groups][k][k].
    /// Covers dense (groups 1), depthwise (groups = C) and channel-multiplier convs
    /// (groups = C_in, C_out = m * C_in: output o reads input o / m). 1x1 dense convs go
    /// through the blocked GEMM.
    public static func conv2d(_ x: [Float], channels: Int, height: Int, width: Int, weight: [Float], outChannels: Int,
                              kernel: Int, stride: Int, groups: Int, bias: [Float]?) -> [Float] {
        if kernel == 1 && stride == 1 && groups == 1 {
            return conv1x1(x: x, channels: channels, pixels: height * width, weight: weight, outChannels: outChannels, bias: bias)
        }
        let oh = convOutputSize(height, kernel: kernel, stride: stride), ow = convOutputSize(width, kernel: kernel, stride: stride)
        let inPerGroup = channels / groups, outPerGroup = outChannels / groups
        let pad = kernel / 2
        var y = [Float](repeating: 0, count: outChannels * oh * ow)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    let yb = yp
                    DispatchQueue.concurrentPerform(iterations: outChannels) { o in
                        let g = o / outPerGroup
                        let out = yb.baseAddress! + o * oh * ow
                        let b = bias?[o] ?? 0
                        for i in 0..<oh * ow { out[i] = b }
                        for ci in 0..<inPerGroup {
                            let plane = xp.baseAddress! + (g * inPerGroup + ci) * height * width
                            for ky in 0..<kernel {
                                for kx in 0..<kernel {
                                    let wv = wp[((o * inPerGroup + ci) * kernel + ky) * kernel + kx]
                                    for oy in 0..<oh {
                                        let iy = oy * stride + ky - pad
                                        if iy < 0 || iy >= height { continue }
                                        let row = plane + iy * width
                                        let orow = out + oy * ow
                                        for ox in 0..<ow {
                                            let ix = ox * stride + kx - pad
                                            if ix >= 0 && ix < width { orow[ox] += wv * row[ix] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Folds an eval BatchNorm into the bias-free conv before it: W' = s W, b' = beta - mean s,
    /// s = gamma / sqrt(var + eps), per output channel.
    public static func foldBatchNorm(weight: [Float], outChannels: Int, gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Float)
        -> (weight: [Float], bias: [Float]) {
        let per = weight.count / outChannels
        var w = weight
        var b = [Float](repeating: 0, count: outChannels)
        for o in 0..<outChannels {
            let s = gamma[o] / (variance[o] + eps).squareRoot()
            for i in 0..<per { w[o * per + i] *= s }
            b[o] = beta[o] - mean[o] * s
        }
        return (w, b)
    }
}
