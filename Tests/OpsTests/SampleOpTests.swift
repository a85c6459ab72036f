import XCTest
import VulkanCore
@testable import Ops

final class SampleOpTests: GPUTestCase {
    /// One recording per logits row, replayed for every parameter set and draw (the decode
    /// loop's pattern: only the parameter buffer changes between runs).
    final class Sampler {
        let device: Device
        let seq: CommandSequence
        let parameters: DeviceBuffer
        let result: DeviceBuffer

        init(device: Device, logits: [Float], count: Int) throws {
            self.device = device
            let row = try device.upload(logits)
            parameters = try device.allocate(bytes: SampleOp.parameterBytes)
            result = try device.upload([UInt32.max])
            seq = CommandSequence(device: device, label: "sample")
            try SampleOp.encode(seq, logits: row.view, count: count, parameters: parameters.view, result: result.view)
        }

        func sample(_ p: SamplingParameters, draw: Float) throws -> Int {
            try SampleOp.parameterWords(p, draw: draw).withUnsafeBytes { try device.write($0, to: parameters.view) }
            try seq.run()
            return Int(try device.download(result.view, as: UInt32.self, count: 1)[0])
        }
    }

    let parameterSets = [SamplingParameters(temperature: 0.8, topK: 20, topP: 0.9),
                         SamplingParameters(temperature: 1, topK: 0, topP: 1),
                         SamplingParameters(temperature: 0.5, topK: 0, topP: 0.8),
                         SamplingParameters(temperature: 2, topK: 300, topP: 1),
                         SamplingParameters(temperature: 0.2, topK: 0, topP: 0.95),
                         SamplingParameters(temperature: 1.3, topK: 7, topP: 0.5),
                         SamplingParameters(temperature: 0.7, topK: 1_000_000, topP: 0.3),
                         SamplingParameters(temperature: 1, topK: 3, topP: 0),
                         SamplingParameters(temperature: 0, topK: 0, topP: 1),
                         SamplingParameters(temperature: 0.9, topK: 1, topP: 0.9)]

    /// GPU and CPU choose with the same uniform draw (the GPU gets it in the parameter buffer).
    func compare(_ logits: [Float], count: Int, draws: Int, seed: UInt64, _ what: String) throws {
        let sampler = try Sampler(device: device, logits: logits, count: count)
        var rng = SplitMix64(seed: seed)
        for p in parameterSets {
            for _ in 0..<(p.isGreedy ? 1 : draws) {
                let u = rng.nextUnit()
                let expected = Reference.sample(logits, count: count, parameters: p, uniform: u)
                XCTAssertEqual(try sampler.sample(p, draw: u), expected, "\(what) \(p) u = \(u)")
            }
        }
    }

    func testRandomRowsAgainstReference() throws {
        // One logit, below / at / above one histogram (256) and one workgroup, odd sizes,
        // a Qwen2 vocabulary width.
        for n in [1, 2, 7, 255, 256, 257, 1000, 4099, 151_936] {
            try compare(randomValues(n, seed: UInt64(n) + 11, scale: 8), count: n, draws: n > 10_000 ? 2 : 6, seed: UInt64(n), "n = \(n)")
        }
    }

    /// Only ids below `count` may be chosen, whatever lies beyond.
    func testCountLimitsTheChoice() throws {
        var logits = randomValues(1200, seed: 3, scale: 4)
        for i in 1000..<1200 { logits[i] = 50 }
        try compare(logits, count: 1000, draws: 6, seed: 9, "count 1000 of 1200")
        let sampler = try Sampler(device: device, logits: logits, count: 1000)
        for u: Float in [0, 0.5, 0.999_999] {
            XCTAssertLessThan(try sampler.sample(SamplingParameters(temperature: 5, topK: 0, topP: 1), draw: u), 1000)
        }
    }

    /// Many equal logits: the order among them is by index, in every step (top-k cut inside
    /// a run of ties, top-p cut, the draw, greedy).
    func testTies() throws {
        let n = 3000
        let logits = randomValues(n, seed: 21, scale: 3).map { ($0 * 2).rounded() / 2 }
        try compare(logits, count: n, draws: 8, seed: 5, "quantised logits")
        try compare([Float](repeating: 1, count: 513), count: 513, draws: 8, seed: 6, "all equal")
        var negativeZero = [Float](repeating: -3, count: 40)
        negativeZero[7] = -0.0
        negativeZero[3] = 0
        try compare(negativeZero, count: 40, draws: 4, seed: 7, "-0 and +0")
    }

    /// Uniforms at the ends of [0, 1) and a peaked distribution where the tail has almost no mass.
    func testExtremeDraws() throws {
        var logits = randomValues(5000, seed: 8, scale: 1)
        logits[1234] = 40
        let sampler = try Sampler(device: device, logits: logits, count: logits.count)
        for p in parameterSets where !p.isGreedy {
            for u: Float in [0, 1e-7, 0.5, 1 - 1e-7, 0.999_999_94] {
                let expected = Reference.sample(logits, parameters: p, uniform: u)
                XCTAssertEqual(try sampler.sample(p, draw: u), expected, "\(p) u = \(u)")
            }
        }
    }
}
