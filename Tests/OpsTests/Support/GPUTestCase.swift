import XCTest
import VulkanCore
import GPUTestSupport
@testable import Ops

/// Base class for kernel tests: the validated device, plus helpers to record, run and read.
class GPUTestCase: ValidatedDeviceTestCase {
    /// Records `body` into a sequence, runs it once, and returns the sequence.
    @discardableResult
    func run(_ label: String = #function, _ body: (CommandSequence) throws -> Void) throws -> CommandSequence {
        let seq = CommandSequence(device: device, label: label)
        try body(seq)
        try seq.run()
        return seq
    }

    func buffer(_ values: [Float]) throws -> DeviceBuffer { try device.upload(values) }

    func zeros(_ count: Int) throws -> DeviceBuffer { try device.upload([Float](repeating: .nan, count: count)) }

    func read(_ buffer: DeviceBuffer, _ count: Int) throws -> [Float] {
        try device.download(buffer.view, as: Float.self, count: count)
    }

    /// A buffer of `values` stored as `type` (fp16 padded to whole words).
    func buffer(_ values: [Float], as type: StorageType) throws -> DeviceBuffer {
        guard type == .f16 else { return try buffer(values) }
        var bits = values.map { Float16($0).bitPattern }
        if bits.count % 2 == 1 { bits.append(0) }
        return try device.upload(bits)
    }

    func read(_ buffer: DeviceBuffer, _ count: Int, as type: StorageType) throws -> [Float] {
        guard type == .f16 else { return try read(buffer, count) }
        return try device.download(buffer.view, as: UInt16.self, count: count).map { Float(Float16(bitPattern: $0)) }
    }
}

/// Deterministic pseudo-random values in [-scale, scale): the selftest's generator.
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] { SelftestData.values(count, seed: seed, scale: scale) }

/// Normalised mean-square error sum((a-b)^2) / sum(b^2), as ggml's op tests use.
func nmse(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var num = 0.0, den = 0.0
    for i in a.indices {
        let d = Double(a[i]) - Double(b[i])
        num += d * d
        den += Double(b[i]) * Double(b[i])
    }
    return den == 0 ? num : num / den
}

/// Rounds through fp16, as the GPU sees fp16 weights.
func roundedToHalf(_ values: [Float]) -> [Float] { values.map { Float(Float16($0)) } }

/// Tolerances by storage type: fp32 paths only differ in summation order; the fp16 ones
/// compare against a reference given the same fp16-rounded inputs, so they stay tight too.
enum Tolerance {
    static let fp32: Double = 1e-10
    static let fp16Weights: Double = 1e-9
    static let transcendental: Double = 1e-11
    /// fp16 activation storage rounds every output to 11 significant bits: relative error up
    /// to u = 2^-11, mean square about u^2 / 3 = 8e-8 (measured 2e-9 ... 8e-8 over the op tests).
    /// The bound leaves a factor 12 for summation order and fp32 rounding of the arithmetic.
    static let fp16Activations: Double = 1e-6
}

extension StorageType {
    /// The weight format storing values the same way.
    var weightFormat: WeightFormat { self == .f16 ? .f16 : .f32 }
}
