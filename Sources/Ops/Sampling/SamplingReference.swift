import Foundation

/// SplitMix64: a small, fully specified generator, so a seed gives the same tokens on every
/// machine and on both backends.
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits.
    public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}

/// How the next token is chosen.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    public var isGreedy: Bool { temperature <= 0 || topK == 1 }
}

extension Reference {
    /// Index of the largest of the first `count` logits; ties go to the lowest index.
    public static func argmax(_ logits: [Float], count: Int? = nil) -> Int {
        let n = count ?? logits.count
        var best = 0
        for i in 1..<max(1, n) where logits[i] > logits[best] { best = i }
        return best
    }

    /// Temperature scaling -> top-k -> softmax -> top-p (smallest prefix of the sorted
    /// distribution with cumulative probability >= p, at least one token) -> one draw.
    public static func sample(_ logits: [Float], count: Int? = nil, parameters: SamplingParameters, rng: inout SplitMix64) -> Int {
        if parameters.isGreedy { return argmax(logits, count: count ?? logits.count) }
        return sample(logits, count: count, parameters: parameters, uniform: rng.nextUnit())
    }

    /// The same choice for a given uniform draw in [0, 1) (greedy parameters ignore it).
    /// Each token's weight exp(l / T - max / T) is fp32; the sums over the sorted order are
    /// in fp64, so the choice does not depend on how rounding accumulates over a long tail
    /// (an fp32 running sum over 150k tokens drifts by about 1% and makes tail tokens
    /// unreachable), and SampleOp's exact fixed-point sums meet it to about 1e-7.
    public static func sample(_ logits: [Float], count: Int? = nil, parameters: SamplingParameters, uniform: Float) -> Int {
        let n = count ?? logits.count
        if parameters.isGreedy { return argmax(logits, count: n) }
        var order = Array(0..<n).sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if parameters.topK > 0 { order = Array(order.prefix(parameters.topK)) }
        let maxLogit = logits[order[0]] / parameters.temperature
        let weights = order.map { Double(exp(logits[$0] / parameters.temperature - maxLogit)) }
        let total = weights.reduce(0, +)
        var keep = weights.count
        if parameters.topP < 1 {
            let target = Double(parameters.topP) * total
            var cumulative = 0.0
            for (i, w) in weights.enumerated() {
                cumulative += w
                if cumulative >= target { keep = i + 1; break }
            }
        }
        let kept = weights.prefix(keep)
        let r = Double(uniform) * kept.reduce(0, +)
        var acc = 0.0
        for (i, w) in kept.enumerated() {
            acc += w
            if r < acc { return order[i] }
        }
        return order[keep - 1]
    }
}
