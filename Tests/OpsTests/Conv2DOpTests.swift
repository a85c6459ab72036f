import XCTest
import VulkanCore
@testable import Ops

final class Conv2DOpTests: GPUTestCase {
    // (C_in, C_out, H, W, k, stride): the stem (3 -> 96, 3x3 s2), odd sides, C_out not a
    // multiple of 4 or 8, a 1x1 map, a 5x5 kernel, a stride larger than the map.
    let shapes = [(3, 96, 33, 30, 3, 2), (3, 5, 7, 9, 3, 1), (2, 13, 1, 1, 3, 1), (4, 8, 11, 6, 5, 2), (1, 3, 4, 4, 3, 5)]

    /// fp16 activations: the reference gets the same fp16-rounded input, so only the rounding
    /// of the output (and the summation order) differs.
    func check(type: StorageType, tiles: [Conv2DOp.Tile?], activations act: StorageType = .f32) throws {
        for (i, (cin, cout, h, w, k, s)) in shapes.enumerated() {
            var x = randomValues(cin * h * w, seed: UInt64(10 + i), scale: 2)
            if act == .f16 { x = roundedToHalf(x) }
            var wt = randomValues(cout * cin * k * k, seed: UInt64(20 + i), scale: 1 / Float(cin * k * k).squareRoot())
            if type == .f16 { wt = roundedToHalf(wt) }
            let b = randomValues(cout, seed: UInt64(30 + i))
            let (oh, ow) = (Conv2DOp.outputSize(h, kernel: k, stride: s), Conv2DOp.outputSize(w, kernel: k, stride: s))
            XCTAssertEqual(oh, Reference.convOutputSize(h, kernel: k, stride: s))
            for gelu in [false, true] {
                for bias in [false, true] {
                    let weight = try Conv2DOp.Weight(device: device, values: wt, bias: bias ? b : nil, outChannels: cout, inChannels: cin, kernel: k, type: type)
                    var expected = Reference.conv2d(x, channels: cin, height: h, width: w, weight: wt, outChannels: cout, kernel: k, stride: s, groups: 1, bias: bias ? b : nil)
                    if gelu { expected = expected.map(Reference.gelu) }
                    for tile in tiles {
                        let (gx, gy) = (try buffer(hwc(x, cin, h, w), as: act), try buffer([Float](repeating: .nan, count: oh * ow * cout), as: act))
                        try run { try Conv2DOp.encode($0, x: gx.view, weight: weight, y: gy.view, height: h, width: w, stride: s, gelu: gelu,
                                                      activations: act, tile: tile) }
                        let got = chw(try read(gy, oh * ow * cout, as: act), cout, oh, ow)
                        let tolerance = act == .f16 ? Tolerance.fp16Activations : Tolerance.fp32
                        XCTAssertLessThan(nmse(got, expected), tolerance,
                                          "\(type) \(act) activations \(cin)->\(cout) \(h)x\(w) k\(k) s\(s) gelu \(gelu) bias \(bias) tile \(String(describing: tile))")
                    }
                }
            }
        }
    }

    func testF32AllTiles() throws {
        try check(type: .f32, tiles: [nil, Conv2DOp.Tile(width: 1, height: 1, channelGroups: 1), Conv2DOp.Tile(width: 8, height: 2, channelGroups: 2),
                                      Conv2DOp.Tile(width: 3, height: 3, channelGroups: 1)])
    }

    func testF16Weights() throws { try check(type: .f16, tiles: [nil]) }

    func testFP16Activations() throws {
        let tiles: [Conv2DOp.Tile?] = [nil, Conv2DOp.Tile(width: 1, height: 1, channelGroups: 1), Conv2DOp.Tile(width: 3, height: 3, channelGroups: 2)]
        try check(type: .f32, tiles: tiles, activations: .f16)
        try check(type: .f16, tiles: [nil], activations: .f16)
    }

    func testRefusesOverlap() throws {
        let weight = try Conv2DOp.Weight(device: device, values: [Float](repeating: 1, count: 9), bias: nil, outChannels: 1, inChannels: 1, kernel: 3, type: .f32)
        let g = try zeros(16)
        let seq = CommandSequence(device: device, label: "overlap")
        XCTAssertThrowsError(try Conv2DOp.encode(seq, x: g.view, weight: weight, y: g.view, height: 4, width: 4))
    }
}
