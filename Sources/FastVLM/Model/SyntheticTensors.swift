/// Hands out the tensors of a synthetic model in build order: large weights as generated
/// `WeightTensor`s (values produced piece by piece when uploaded), small vectors as host
/// arrays. Building describes any model, 7B included, without holding its values.
struct SyntheticTensors {
    let seed: UInt64
    /// Parameters handed out so far (a tied LM head, handed out once, counts once).
    private(set) var parameters = 0
    private var index: UInt64 = 0

    init(seed: UInt64) {
        self.seed = seed
    }

    private mutating func next(_ count: Int) -> UInt64 {
        parameters += count
        index += 1
        return SyntheticRandom.derive(seed, index)
    }

    /// A generated tensor of bell-shaped values around zero with standard deviation `std`.
    mutating func tensor(_ shape: [Int], std: Float) -> WeightTensor {
        let count = shape.reduce(1, *)
        let stream = SyntheticRandom.Stream(seed: next(count), mean: 0, std: std)
        return WeightTensor(name: "synthetic.\(index)", shape: shape, generated: stream)
    }

    /// Weights with fan-in `fanIn` scaled so a layer keeps the variance of its input
    /// (`gain` sqrt(2) in front of a GELU/ReLU/SiLU, which roughly halves it).
    mutating func weight(_ shape: [Int], fanIn: Int, gain: Float = 1) -> WeightTensor {
        tensor(shape, std: gain / Float(max(1, fanIn)).squareRoot())
    }

    /// Small host values (vectors, small depthwise kernels).
    mutating func random(_ count: Int, std: Float) -> [Float] {
        SyntheticRandom.values(count, mean: 0, std: std, seed: next(count))
    }

    /// Small biases, so they shift activations without dominating them.
    mutating func bias(_ count: Int) -> [Float] { random(count, std: 0.02) }

    mutating func constant(_ count: Int, _ value: Float) -> [Float] {
        _ = next(count)
        return [Float](repeating: value, count: count)
    }
}
