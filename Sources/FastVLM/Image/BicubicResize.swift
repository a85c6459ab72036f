/// Bicubic resampling bit-compatible with Pillow's `Image.resize(..., BICUBIC)` on 8-bit
/// images (what Apple's preprocessing runs): a = -0.5, the kernel widened by the downscale
/// factor (antialiasing), coefficients in 22-bit fixed point, a horizontal pass then a
/// vertical pass, each rounded and clipped to 8 bits.
enum BicubicResize {
    static let precisionBits = 32 - 8 - 2

    static func filter(_ x: Double) -> Double {
        let a = -0.5, x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }

    /// For each output index: the first input index and the fixed-point weights.
    static func coefficients(inSize: Int, outSize: Int) -> [(start: Int, weights: [Int32])] {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 2.0 * filterScale
        return (0..<outSize).map { xx in
            let center = (Double(xx) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var k = (0..<xmax).map { x in filter((Double(x + xmin) - center + 0.5) / filterScale) }
            let total = k.reduce(0, +)
            if total != 0 { k = k.map { $0 / total } }
            let one = Double(1 << precisionBits)
            return (xmin, k.map { Int32($0 < 0 ? -0.5 + $0 * one : 0.5 + $0 * one) })
        }
    }

    @inline(__always)
    static func clip8(_ v: Int64) -> UInt8 {
        let shifted = v >> Int64(precisionBits)
        return shifted < 0 ? 0 : shifted > 255 ? 255 : UInt8(shifted)
    }

    /// Resizes interleaved 8-bit pixels with `channels` channels.
    static func resize(_ pixels: [UInt8], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int) -> [UInt8] {
        var current = pixels
        var w = width
        let half = Int64(1) << Int64(precisionBits - 1)
        if toWidth != width {
            let coeffs = coefficients(inSize: width, outSize: toWidth)
            var out = [UInt8](repeating: 0, count: toWidth * height * channels)
            for y in 0..<height {
                for (xx, c) in coeffs.enumerated() {
                    for ch in 0..<channels {
                        var ss = half
                        for (i, k) in c.weights.enumerated() { ss += Int64(current[((y * w) + c.start + i) * channels + ch]) * Int64(k) }
                        out[(y * toWidth + xx) * channels + ch] = clip8(ss)
                    }
                }
            }
            current = out
            w = toWidth
        }
        if toHeight != height {
            let coeffs = coefficients(inSize: height, outSize: toHeight)
            var out = [UInt8](repeating: 0, count: w * toHeight * channels)
            for (yy, c) in coeffs.enumerated() {
                for x in 0..<w {
                    for ch in 0..<channels {
                        var ss = half
                        for (i, k) in c.weights.enumerated() { ss += Int64(current[((c.start + i) * w + x) * channels + ch]) * Int64(k) }
                        out[(yy * w + x) * channels + ch] = clip8(ss)
                    }
                }
            }
            current = out
        }
        return current
    }
}
