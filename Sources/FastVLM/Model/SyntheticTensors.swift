/// Hands out the arrays of a synthetic model in build order. In counting mode it only adds up
/// the parameters and returns empty arrays, so the size of any model (7B included) is known
/// from the very code that would fill it, without allocating.
struct SyntheticTensors {
    let seed: UInt64
    let allocates: Bool
    /// Parameters handed out so far (shared arrays, such as a tied LM head, count once).
    private(set) var parameters = 0
    private var index: UInt64 = 0

    static func counting() -> SyntheticTensors { SyntheticTensors(seed: 0, allocates: false) }
    static func filling(seed: UInt64) -> SyntheticTensors { SyntheticTensors(seed: seed, allocates: true) }

    private init(seed: UInt64, allocates: Bool) {
        self.seed = seed
        self.allocates = allocates
    }

    /// Bell-shaped values around zero with standard deviation `std`.
    mutating func random(_ count: Int, std: Float) -> [Float] {
        parameters += count
        index += 1
        guard allocates else { return [] }
        return SyntheticRandom.values(count, mean: 0, std: std, seed: SyntheticRandom.derive(seed, index))
    }

    /// Weights with fan-in `fanIn` scaled so a layer keeps the variance of its input
    /// (`gain` sqrt(2) in front of a GELU/ReLU/SiLU, which roughly halves it).
    mutating func weight(_ count: Int, fanIn: Int, gain: Float = 1) -> [Float] {
        random(count, std: gain / Float(max(1, fanIn)).squareRoot())
    }

    /// Small biases, so they shift activations without dominating them.
    mutating func bias(_ count: Int) -> [Float] { random(count, std: 0.02) }

    mutating func constant(_ count: Int, _ value: Float) -> [Float] {
        parameters += count
        index += 1
        guard allocates else { return [] }
        return [Float](repeating: value, count: count)
    }
}
