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
        let stream = Stream(seed: seed, mean: mean, std: std)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            stream.fill(0..<count, into: buffer)
            initialized = count
        }
    }

    /// The values of one tensor as a function of their index: element i comes from chunk
    /// i / `chunk`, so any range can be produced on its own (a weight is generated piece by
    /// piece as it is uploaded, never as a whole host array).
    struct Stream: Equatable, Sendable {
        let seed: UInt64
        let mean: Float
        let std: Float

        /// Elements `range` into `out` (range.count values), chunks spread over the cores.
        func fill(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
            guard !range.isEmpty, let base = out.baseAddress else { return }
            let scale = std / sumStd
            let offset = mean - sumMean * scale
            let firstChunk = range.lowerBound / chunk, lastChunk = (range.upperBound - 1) / chunk
            let fillChunk = { (i: Int) in
                let c = firstChunk + i
                let start = c * chunk
                let lo = max(start, range.lowerBound), hi = min(start + chunk, range.upperBound)
                var state = derive(seed, UInt64(c))
                for _ in start..<lo { _ = splitMix(&state) }
                var j = lo
                while j < hi {
                    let z = splitMix(&state)
                    let sum = (z & 0xFFFF) + ((z >> 16) & 0xFFFF) + ((z >> 32) & 0xFFFF) + (z >> 48)
                    base[j - range.lowerBound] = Float(UInt32(truncatingIfNeeded: sum)) * scale + offset
                    j += 1
                }
            }
            let chunks = lastChunk - firstChunk + 1
            if chunks == 1 {
                fillChunk(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: chunks, execute: fillChunk)
            }
        }
    }
}
