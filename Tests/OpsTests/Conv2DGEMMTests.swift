import XCTest
import VulkanCore
@testable import Ops

/// Dense convolutions as an implicit GEMM on the tiled kernel, against the CPU reference.
final class Conv2DGEMMTests: GPUTestCase {
    // (C_in, C_out, H, W, k, stride): the stem (3 -> 96, 3x3 s2), odd sides, C_out off every
    // tile, a 1x1 map, 5x5 and 7x7 kernels, a stride larger than the map, C_in % 4 == 0 (vec4
    // gathers) and C_out past 128.
    let shapes = [(3, 96, 33, 30, 3, 2), (3, 5, 7, 9, 3, 1), (2, 13, 1, 1, 3, 1), (4, 8, 11, 6, 5, 2), (1, 3, 4, 4, 3, 5),
                  (8, 70, 13, 11, 7, 1), (16, 130, 9, 10, 3, 1), (5, 24, 12, 12, 7, 2)]

    func check(format: WeightFormat, activations act: StorageType) throws {
        for (i, (cin, cout, h, w, k, s)) in shapes.enumerated() {
            var x = randomValues(cin * h * w, seed: UInt64(10 + i), scale: 2)
            if act == .f16 { x = roundedToHalf(x) }
            var wt = randomValues(cout * cin * k * k, seed: UInt64(20 + i), scale: 1 / Float(cin * k * k).squareRoot())
            if format == .f16 { wt = roundedToHalf(wt) }
            let b = randomValues(cout, seed: UInt64(30 + i))
            let (oh, ow) = (Conv2DOp.outputSize(h, kernel: k, stride: s), Conv2DOp.outputSize(w, kernel: k, stride: s))
            // Bias and GELU alternate over the shapes: each shape runs one epilogue.
            let (bias, gelu) = (i % 2 == 0, i % 4 < 2)
            let weight = try Conv2DOp.GEMMWeight(device: device, values: wt, bias: bias ? b : nil, outChannels: cout, inChannels: cin, kernel: k, format: format)
            var expected = Reference.conv2d(x, channels: cin, height: h, width: w, weight: wt, outChannels: cout, kernel: k, stride: s, groups: 1, bias: bias ? b : nil)
            if gelu { expected = expected.map(Reference.gelu) }
            let (gx, gy) = (try buffer(hwc(x, cin, h, w), as: act), try buffer([Float](repeating: .nan, count: oh * ow * cout), as: act))
            try run { try Conv2DOp.encodeGEMM($0, x: gx.view, weight: weight, y: gy.view, height: h, width: w, stride: s, gelu: gelu, activations: act) }
            let got = chw(try read(gy, oh * ow * cout, as: act), cout, oh, ow)
            XCTAssertLessThan(nmse(got, expected), act == .f16 ? Tolerance.fp16Activations : Tolerance.fp32,
                              "\(format) \(act) activations \(cin)->\(cout) \(h)x\(w) k\(k) s\(s) gelu \(gelu) bias \(bias)")
        }
    }

    func testF32() throws { try check(format: .f32, activations: .f32) }
    func testF16Weights() throws { try check(format: .f16, activations: .f32) }
    func testFP16Activations() throws {
        try XCTSkipUnless(device.capabilities.storageBuffer16BitAccess, "no 16-bit storage on \(device.capabilities.name)")
        try check(format: .f16, activations: .f16)
        try check(format: .f32, activations: .f16)
    }

    func testBadInputIsAClearError() throws {
        XCTAssertThrowsError(try Conv2DOp.GEMMWeight(device: device, values: [Float](repeating: 0, count: 9 * 64), bias: nil, outChannels: 1,
                                                     inChannels: 64, kernel: 3, format: .q8)) { XCTAssertTrue("\($0)".contains("q8"), "\($0)") }
        XCTAssertThrowsError(try Conv2DOp.GEMMWeight(device: device, values: [1, 2], bias: nil, outChannels: 1, inChannels: 1, kernel: 3, format: .f32))
        let weight = try Conv2DOp.GEMMWeight(device: device, values: [Float](repeating: 1, count: 9), bias: nil, outChannels: 1, inChannels: 1, kernel: 3, format: .f32)
        let g = try zeros(16)
        let seq = CommandSequence(device: device, label: "overlap")
        XCTAssertThrowsError(try Conv2DOp.encodeGEMM(seq, x: g.view, weight: weight, y: g.view, height: 4, width: 4))
        let small = try zeros(4)
        XCTAssertThrowsError(try Conv2DOp.encodeGEMM(seq, x: small.view, weight: weight, y: g.view, height: 4, width: 4)) {
            XCTAssertTrue("\($0)".contains("x holds"), "\($0)")
        }
    }
}
