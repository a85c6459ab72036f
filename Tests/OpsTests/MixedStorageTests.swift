import XCTest
import VulkanCore
@testable import Ops

/// The kernels that read and write different storage: a decoder's fp32 residual stream beside
/// its fp16 rows. fp32 Y (and residual) over fp16 X for every linear kernel and input (o_proj,
/// down_proj over the stacked gate/up rows), fp16 Y over fp32 X under a folded RMSNorm (the
/// q/k/v and gate/up GEMVs reading the stream), RMSNorm fp32 -> fp16 (prefill). Residuals and
/// inputs hold values beyond fp16's 65504 that must survive.
final class MixedStorageTests: GPUTestCase {
    let shapes = [(1, 5, 4), (2, 7, 12), (3, 33, 36), (1, 130, 100), (8, 61, 68), (9, 130, 64), (37, 61, 100),
                  (1, 5, 64), (2, 7, 96), (3, 33, 192), (1, 130, 128), (37, 61, 192)]
    let eps: Float = 1e-6

    func stored(_ values: [Float], rows: Int, cols: Int, format: WeightFormat) -> [Float] {
        WeightPacking.roundTrip(values, rows: rows, cols: cols, format: format)
    }

    /// X is rounded to fp16 before the reference and Y is fp32: only the weights' error remains
    /// (coopmat also rounds W and its fp32 partial sums to fp16 tiles).
    func wideTolerance(_ format: WeightFormat, _ variant: LinearOp.Variant) -> Double {
        variant == .coopmat ? Tolerance.fp16Activations : format == .f32 ? Tolerance.fp32 : Tolerance.fp16Weights
    }

    /// A residual with one value fp16 cannot hold (the selftest's): it must come back (plus the product), not inf.
    func residual(_ count: Int, seed: UInt64) -> [Float] { SelftestData.withWideValue(randomValues(count, seed: seed)) }

    /// res + lin, and everything but the wide value (whose fp32 rounding at 3e6, 0.25, would
    /// swamp the comparison; it is checked on its own).
    func expected(_ res: [Float], _ lin: [Float]) -> [Float] { zip(res, lin).map { $0 + $1 } }
    func narrow(_ v: [Float]) -> [Float] { SelftestData.narrow(v) }

    func testFP32OutputOverFP16RowsEveryKernel() throws {
        try XCTSkipUnless(device.capabilities.storageBuffer16BitAccess, "no 16-bit storage")
        for variant in LinearOp.Variant.allCases {
            for format in WeightFormat.allCases {
                var ran = 0
                for (m, n, k) in shapes where LinearOp.supports(variant, caps: device.capabilities, m: m, k: k, format: format) {
                    let x = roundedToHalf(randomValues(m * k, seed: UInt64(m * 100 + k), scale: 2))
                    let w = randomValues(n * k, seed: UInt64(n * 7 + k), scale: 0.5)
                    let b = randomValues(n, seed: UInt64(n))
                    let res = residual(m * n, seed: UInt64(m + n))
                    let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
                    let (gx, gb, gy) = (try buffer(x, as: .f16), try buffer(b), try buffer(res))
                    try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gy.view, m: m, residual: gy.view,
                                                  activations: .f16, output: .f32, variant: variant) }
                    let lin = Reference.linear(x: x, m: m, k: k, weight: stored(w, rows: n, cols: k, format: format), n: n, bias: b)
                    let got = try read(gy, m * n)
                    XCTAssertLessThan(nmse(narrow(got), narrow(expected(res, lin))), wideTolerance(format, variant), "\(variant) \(format) \(m)x\(n)x\(k)")
                    XCTAssertEqual(got[SelftestData.wideIndex(m * n)], res[SelftestData.wideIndex(m * n)] + lin[SelftestData.wideIndex(m * n)], accuracy: 1, "\(variant) \(format) \(m)x\(n)x\(k): the wide residual")
                    ran += 1
                }
                if variant != .coopmat { XCTAssertGreaterThan(ran, 0, "\(variant) \(format)") }
            }
        }
    }

    /// down_proj in decode: the GEMV over the stacked fp16 [gate | up] rows adding into the fp32 stream.
    func testFP32OutputOverFP16SwiGLURows() throws {
        try XCTSkipUnless(device.capabilities.storageBuffer16BitAccess && LinearOp.supports(.gemv, caps: device.capabilities, m: 1, k: 4), "no fp16 gemv")
        for format in WeightFormat.allCases {
            var ran = 0
            for (m, n, k) in shapes where LinearOp.supports(.gemv, caps: device.capabilities, m: m, k: k, format: format) {
                let gateUp = roundedToHalf(randomValues(m * 2 * k, seed: UInt64(41 + k), scale: 2))
                let w = randomValues(n * k, seed: UInt64(42 + n), scale: 0.5)
                let res = residual(m * n, seed: UInt64(44 + n))
                let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
                let (gx, gy) = (try buffer(gateUp, as: .f16), try buffer(res))
                try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, residual: gy.view,
                                              activations: .f16, output: .f32, variant: .gemv, input: .swiGLU) }
                let lin = Reference.linear(x: SelftestData.swiGLU(gateUp, m: m, k: k), m: m, k: k, weight: stored(w, rows: n, cols: k, format: format), n: n, bias: nil)
                let got = try read(gy, m * n)
                XCTAssertLessThan(nmse(narrow(got), narrow(expected(res, lin))), wideTolerance(format, .gemv), "\(format) \(m)x\(n)x\(k)")
                XCTAssertEqual(got[SelftestData.wideIndex(m * n)], res[SelftestData.wideIndex(m * n)] + lin[SelftestData.wideIndex(m * n)], accuracy: 1, "\(format) \(m)x\(n)x\(k): the wide residual")
                ran += 1
            }
            XCTAssertGreaterThan(ran, 0, "\(format)")
        }
    }

    /// q/k/v and gate/up in decode: the folded-norm GEMV reads fp32 rows far beyond fp16's range
    /// (the norm scales them back) and writes fp16, with bias; and with an fp16 residual.
    func testFP16OutputOverFP32NormInput() throws {
        try XCTSkipUnless(device.capabilities.storageBuffer16BitAccess && LinearOp.supports(.gemv, caps: device.capabilities, m: 1, k: 4), "no fp16 gemv")
        for format in WeightFormat.allCases {
            var ran = 0
            for (i, (m, n, k)) in shapes.enumerated() where LinearOp.supports(.gemv, caps: device.capabilities, m: m, k: k, format: format) {
                let x = randomValues(m * k, seed: UInt64(61 + k), scale: i % 2 == 0 ? 1e6 : 0.05)
                let g = randomValues(k, seed: UInt64(62 + k), scale: 2)
                let w = randomValues(n * k, seed: UInt64(63 + n), scale: 0.5)
                let b = randomValues(n, seed: 64)
                let res = roundedToHalf(randomValues(m * n, seed: 65))
                let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
                let (gx, gg, gb, gr) = (try buffer(x), try buffer(g), try buffer(b), try buffer(res, as: .f16))
                let residual = i % 3 == 0
                try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gr.view, m: m, residual: residual ? gr.view : nil,
                                              activations: .f32, output: .f16, variant: .gemv, input: .rmsNorm(weight: gg.view, eps: eps)) }
                let normed = Reference.rmsNorm(x, rows: m, width: k, weight: g, eps: eps)
                var expected = Reference.linear(x: normed, m: m, k: k, weight: stored(w, rows: n, cols: k, format: format), n: n, bias: b)
                if residual { expected = (0..<m * n).map { res[$0] + expected[$0] } }
                XCTAssertLessThan(nmse(try read(gr, m * n, as: .f16), expected), Tolerance.fp16Activations, "\(format) \(m)x\(n)x\(k)")
                ran += 1
            }
            XCTAssertGreaterThan(ran, 0, "\(format)")
        }
    }

    /// Prefill and cpu-class decode: the residual stream normed into fp16 rows.
    func testRMSNormFP32ToFP16() throws {
        try XCTSkipUnless(device.capabilities.storageBuffer16BitAccess, "no 16-bit storage")
        for (rows, width) in [(1, 1), (3, 64), (5, 896), (2, 1000), (700, 3)] {
            let x = randomValues(rows * width, seed: UInt64(rows * 31 + width), scale: 1e6)
            let w = randomValues(width, seed: 7, scale: 2)
            let (gx, gw, gy) = (try buffer(x), try buffer(w), try buffer([Float](repeating: .nan, count: rows * width), as: .f16))
            try run { try RowNormOp.encode($0, .rms, x: gx.view, weight: gw.view, y: gy.view, rows: rows, width: width, eps: 1e-6, activations: .f32, output: .f16) }
            let expected = Reference.rmsNorm(x, rows: rows, width: width, weight: w, eps: 1e-6)
            XCTAssertLessThan(nmse(try read(gy, rows * width, as: .f16), expected), Tolerance.fp16Activations, "rmsnorm \(rows)x\(width)")
        }
    }

    /// Combinations no kernel implements are refused with a message naming the storage.
    func testUnsupportedCombinations() throws {
        try XCTSkipUnless(device.capabilities.storageBuffer16BitAccess, "no 16-bit storage")
        let (m, n, k) = (2, 8, 16)
        let weight = try LinearWeight(device: device, values: randomValues(n * k, seed: 71), rows: n, cols: k, format: .f32)
        let (gx, gy) = (try buffer(randomValues(m * 2 * k, seed: 72)), try zeros(m * n))
        for v in LinearOp.Variant.allCases where LinearOp.supports(v, caps: device.capabilities, m: m, k: k) {
            XCTAssertThrowsError(try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, activations: .f32, output: .f16, variant: v) }) {
                XCTAssertTrue("\($0)".contains("f16 Y over f32 X"), "\($0)")
            }
        }
        if LinearOp.supports(.gemv, caps: device.capabilities, m: m, k: k) {
            XCTAssertThrowsError(try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, activations: .f32, output: .f16,
                                                               variant: .gemv, input: .swiGLU) }) {
                XCTAssertTrue("\($0)".contains("SwiGLU"), "\($0)")
            }
        }
        let w = try buffer(randomValues(k, seed: 73))
        XCTAssertThrowsError(try run { try RowNormOp.encode($0, .layer, x: gx.view, weight: w.view, bias: w.view, y: gy.view, rows: m, width: k, eps: 1e-5,
                                                            activations: .f32, output: .f16) }) {
            XCTAssertTrue("\($0)".contains("mixed storage"), "\($0)")
        }
        XCTAssertThrowsError(try run { try RowNormOp.encode($0, .rms, x: gx.view, weight: w.view, y: gy.view, rows: m, width: k, eps: 1e-5,
                                                            activations: .f16, output: .f32) })
    }
}
