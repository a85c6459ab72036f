import Dispatch

/// Deterministic, fast filling of large weight arrays for the synthetic models.
///
/// Values are bell-shaped (the sum of four 16-bit uniforms, an Irwin-Hall approximation of a
/// normal) and bounded to mean +- 3.46 std, so no outlier can blow up an activation. An array is
/// cut into fixed chunks, each with its own generator seeded from (seed, chunk), so the values do
/// not depend on how many threads fill it.
enum SyntheticRandom {
    /// Elements per independently seeded chunk (also the unit of work per thread).
    static let chunk = 1 << 16

    /// SplitMix64 step: a full-period 64-bit generator, small enough to inline in the fill loop.
    @inline(__always)
    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-mixed seed for item `index` under `seed` (tensor n of a model, chunk n of a tensor).
    static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var state = seed ^ (index &* 0xD1B5_4A32_D192_ED03)
        _ = splitMix(&state)
        return splitMix(&state)
    }

    /// Standard deviation of the sum of four independent uniforms on 0...65535.
    static let sumStd: Float = ((65536.0 * 65536.0 - 1) / 3).squareRoot()
    /// Mean of that sum.
    static let sumMean: Float = 4 * 32767.5

    /// `count` values with the given mean and standard deviation.
    static func values(_ count: Int, mean: Float, std: Float, seed: UInt64) -> [Float] {
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else { initialized = 0; return }
            let chunks = (count + chunk - 1) / chunk
            let scale = std / sumStd
            let offset = mean - sumMean * scale
            let fillChunk = { (c: Int) in
                let start = c * chunk
                let end = min(count, start + chunk)
                var state = derive(seed, UInt64(c))
                var i = start
                while i < end {
                    let z = splitMix(&state)
                    let sum = (z & 0xFFFF) + ((z >> 16) & 0xFFFF) + ((z >> 32) & 0xFFFF) + (z >> 48)
                    base[i] = Float(UInt32(truncatingIfNeeded: sum)) * scale + offset
                    i += 1
                }
            }
            if chunks == 1 {
                fillChunk(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: chunks, execute: fillChunk)
            }
            initialized = count
        }
    }
}
