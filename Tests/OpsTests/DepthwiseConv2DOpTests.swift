import XCTest
import VulkanCore
@testable import Ops

final class DepthwiseConv2DOpTests: GPUTestCase {
    // (C_in, multiplier, H, W, k, stride): RepMixer 3x3, ConvFFN/RepCPE 7x7, stem.1 3x3 s2,
    // downsample 7x7 s2 x2, conv_exp 3x3 x2; channel counts off vec4, 1x1 and 2x1 maps.
    let shapes = [(8, 1, 9, 7, 3, 1), (12, 1, 10, 11, 7, 1), (5, 1, 13, 6, 3, 2), (4, 2, 15, 9, 7, 2),
                  (6, 2, 5, 5, 3, 1), (3, 2, 1, 1, 7, 2), (7, 1, 2, 1, 7, 1)]
    let tiles: [DepthwiseConv2DOp.Tile?] = [nil, DepthwiseConv2DOp.Tile(width: 1, height: 1), DepthwiseConv2DOp.Tile(width: 8, height: 2),
                                            DepthwiseConv2DOp.Tile(width: 3, height: 3)]

    func testAgainstReference() throws { try check(activations: .f32) }

    /// Every kernel (scalar / vec4, multiplier 1 / 2) with fp16 maps, against the reference fed
    /// the same fp16-rounded input.
    func testFP16Activations() throws { try check(activations: .f16) }

    func check(activations act: StorageType) throws {
        for (i, (c, m, h, w, k, s)) in shapes.enumerated() {
            let cout = c * m
            var x = randomValues(c * h * w, seed: UInt64(40 + i), scale: 2)
            if act == .f16 { x = roundedToHalf(x) }
            let wt = randomValues(cout * k * k, seed: UInt64(50 + i), scale: 0.5)
            let b = randomValues(cout, seed: UInt64(60 + i))
            let (oh, ow) = (DepthwiseConv2DOp.outputSize(h, kernel: k, stride: s), DepthwiseConv2DOp.outputSize(w, kernel: k, stride: s))
            for (gelu, bias) in [(false, true), (true, true), (true, false)] {
                let weight = try DepthwiseConv2DOp.Weight(device: device, values: wt, bias: bias ? b : nil, inChannels: c, multiplier: m, kernel: k)
                var expected = Reference.conv2d(x, channels: c, height: h, width: w, weight: wt, outChannels: cout, kernel: k, stride: s, groups: c, bias: bias ? b : nil)
                if gelu { expected = expected.map(Reference.gelu) }
                for vectorized in cout % 4 == 0 ? [true, false] : [false] {
                    for tile in tiles {
                        let (gx, gy) = (try buffer(hwc(x, c, h, w), as: act), try buffer([Float](repeating: .nan, count: oh * ow * cout), as: act))
                        try run { try DepthwiseConv2DOp.encode($0, x: gx.view, weight: weight, y: gy.view, height: h, width: w, stride: s, gelu: gelu,
                                                               activations: act, vectorized: vectorized, tile: tile) }
                        let got = chw(try read(gy, oh * ow * cout, as: act), cout, oh, ow)
                        XCTAssertLessThan(nmse(got, expected), act == .f16 ? Tolerance.fp16Activations : Tolerance.fp32,
                                          "\(act) C\(c) x\(m) \(h)x\(w) k\(k) s\(s) gelu \(gelu) bias \(bias) vec4 \(vectorized) tile \(String(describing: tile))")
                    }
                }
            }
        }
    }

    func testRejectsBadArguments() throws {
        XCTAssertThrowsError(try DepthwiseConv2DOp.Weight(device: device, values: [1, 2, 3, 4], bias: nil, inChannels: 1, multiplier: 3, kernel: 1))
        let weight = try DepthwiseConv2DOp.Weight(device: device, values: [Float](repeating: 1, count: 27), bias: nil, inChannels: 3, kernel: 3)
        let (gx, gy) = (try zeros(12), try zeros(12))
        let seq = CommandSequence(device: device, label: "bad")
        XCTAssertThrowsError(try DepthwiseConv2DOp.encode(seq, x: gx.view, weight: weight, y: gy.view, height: 2, width: 2, vectorized: true))
        XCTAssertThrowsError(try DepthwiseConv2DOp.encode(seq, x: gx.view, weight: weight, y: gy.view, height: 4, width: 4))
    }
}
