import XCTest
import VulkanCore
@testable import Ops

final class SqueezeExciteOpTests: GPUTestCase {
    // (C, R, pixels): conv_exp's 3072 -> 192 on 16x16, channel counts that do not fill a mean
    // workgroup's 32 channel lanes, one pixel, pixel counts not a multiple of the 8 pixel lanes.
    let shapes = [(3072, 192, 256), (5, 3, 7), (40, 8, 1), (70, 6, 1000), (1, 1, 3)]

    func check(format: WeightFormat, gelu: Bool, bias: Bool = true, inPlace: Bool = false, activations act: StorageType = .f32) throws {
        var ran = 0
        for (i, (c, r, p)) in shapes.enumerated() where format.supports(cols: c) && format.supports(cols: r) {
            ran += 1
            // HWC, with per-channel offsets so the channel means (and so the gates) differ clearly.
            let offsets = randomValues(c, seed: UInt64(90 + i), scale: 3)
            var x = randomValues(p * c, seed: UInt64(40 + i), scale: 2).enumerated().map { $0.element + offsets[$0.offset % c] }
            if act == .f16 { x = roundedToHalf(x) }
            let w1 = randomValues(r * c, seed: UInt64(50 + i), scale: 2 / Float(c).squareRoot())
            let w2 = randomValues(c * r, seed: UInt64(60 + i), scale: 2 / Float(r).squareRoot())
            let b1 = bias ? randomValues(r, seed: UInt64(70 + i), scale: 0.5) : [Float](repeating: 0, count: r)
            let b2 = bias ? randomValues(c, seed: UInt64(80 + i)) : [Float](repeating: 0, count: c)
            let reduce = try LinearWeight(device: device, values: w1, rows: r, cols: c, format: format)
            let expand = try LinearWeight(device: device, values: w2, rows: c, cols: r, format: format)
            let (gx, gb1, gb2) = (try buffer(x, as: act), try buffer(b1), try buffer(b2))
            let gy = inPlace ? gx : try buffer([Float](repeating: .nan, count: p * c), as: act)
            let scratch = try zeros(SqueezeExciteOp.scratchFloats(channels: c, reduced: r))
            try run {
                try SqueezeExciteOp.encode($0, x: gx.view, y: gy.view, pixels: p, channels: c, reduce: reduce, reduceBias: bias ? gb1.view : nil,
                                           expand: expand, expandBias: bias ? gb2.view : nil, scratch: scratch.view, gelu: gelu, activations: act)
            }
            var expected = Reference.squeezeExcite(chw(x, c, p, 1), channels: c, pixels: p,
                                                   reduceWeight: WeightPacking.roundTrip(w1, rows: r, cols: c, format: format), reduceBias: b1, reduced: r,
                                                   expandWeight: WeightPacking.roundTrip(w2, rows: c, cols: r, format: format), expandBias: b2)
            if gelu { expected = expected.map(Reference.gelu) }
            let got = chw(try read(gy, p * c, as: act), c, p, 1)
            let tolerance = act == .f16 ? Tolerance.fp16Activations : format == .f32 ? Tolerance.fp32 : Tolerance.fp16Weights
            XCTAssertLessThan(nmse(got, expected), tolerance, "\(format) \(act) activations C\(c) R\(r) P\(p) gelu \(gelu) bias \(bias) in place \(inPlace)")
        }
        XCTAssertGreaterThan(ran, 0, "no shape ran for \(format)")
    }

    /// bf16, q8 and q4 FC weights (conv_exp's 3072 -> 192 shape: both K are block multiples).
    func testStoredFormats() throws {
        for format in [WeightFormat.bf16, .q8, .q4] { try check(format: format, gelu: true) }
    }

    func testF32() throws { try check(format: .f32, gelu: false) }
    func testF16WeightsFusedGELU() throws { try check(format: .f16, gelu: true) }
    func testNoBiasInPlace() throws { try check(format: .f32, gelu: true, bias: false, inPlace: true) }
    func testFP16Activations() throws {
        try check(format: .f16, gelu: true, activations: .f16)
        try check(format: .f32, gelu: false, bias: false, inPlace: true, activations: .f16)
    }
}
