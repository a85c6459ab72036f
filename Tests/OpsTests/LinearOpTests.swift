import XCTest
import VulkanCore
@testable import Ops

final class LinearOpTests: GPUTestCase {
    // M x N x K, including sizes that are not multiples of any tile, K not a multiple of 4.
    let shapes = [(1, 1, 4), (1, 5, 3), (2, 7, 12), (3, 33, 17), (8, 65, 36), (9, 130, 64), (37, 61, 100), (64, 64, 64), (130, 257, 96)]

    /// Shapes for the quantized formats: K = 64, 96 (q8 only), 128 + 64; M and N off every tile.
    let blockShapes = [(1, 5, 64), (2, 7, 96), (3, 33, 192), (8, 65, 64), (9, 130, 128), (37, 61, 192), (130, 257, 96)]

    /// Weights as the device holds them in `format` (the kernel's input; quantization error is not the kernel's).
    func stored(_ values: [Float], rows: Int, cols: Int, format: WeightFormat) -> [Float] {
        WeightPacking.roundTrip(values, rows: rows, cols: cols, format: format)
    }

    /// coopmat rounds X (and dequantized W) to fp16 like fp16 activations.
    func tolerance(_ format: WeightFormat, _ activations: StorageType, _ variant: LinearOp.Variant = .tiled) -> Double {
        activations == .f16 || variant == .coopmat ? Tolerance.fp16Activations : format == .f32 ? Tolerance.fp32 : Tolerance.fp16Weights
    }

    /// The variants this device runs: all but coopmat where the device has no cooperative matrix
    /// (lavapipe; CooperativeMatrixTests checks that it is refused there).
    var variants: [LinearOp.Variant] {
        LinearOp.Variant.allCases.filter { $0 != .coopmat || LinearOp.supports(.coopmat, caps: device.capabilities, m: 1, k: 64) }
    }

    func check(variant: LinearOp.Variant, format: WeightFormat, activation: LinearOp.Activation = .none, bias: Bool = true,
               activations: StorageType = .f32, bindingLimit: Int? = nil) throws {
        var ran = 0
        for (m, n, k) in shapes + blockShapes where LinearOp.supports(variant, caps: device.capabilities, m: m, k: k, format: format) {
            var x = randomValues(m * k, seed: UInt64(m * 1000 + k))
            if activations == .f16 { x = roundedToHalf(x) }
            let w = randomValues(n * k, seed: UInt64(n * 7 + k), scale: 0.5)
            let b = randomValues(n, seed: UInt64(n))
            let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
            let (gx, gb, gy) = (try buffer(x, as: activations), try buffer(b), try buffer([Float](repeating: .nan, count: m * n), as: activations))
            try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: bias ? gb.view : nil, y: gy.view, m: m, activation: activation,
                                          activations: activations, variant: variant, bindingLimit: bindingLimit) }
            var expected = Reference.linear(x: x, m: m, k: k, weight: stored(w, rows: n, cols: k, format: format), n: n, bias: bias ? b : nil)
            switch activation {
            case .none: break
            case .gelu: expected = expected.map(Reference.gelu)
            case .silu: expected = expected.map(Reference.silu)
            }
            let err = nmse(try read(gy, m * n, as: activations), expected)
            XCTAssertLessThan(err, tolerance(format, activations, variant), "\(variant) \(format) \(m)x\(n)x\(k) activations \(activations) limit \(bindingLimit ?? 0)")
            ran += 1
        }
        XCTAssertGreaterThan(ran, 0, "no shape ran for \(variant) \(format)")
    }

    func testTiledF32() throws { try check(variant: .tiled, format: .f32) }
    func testTiledF16() throws { try check(variant: .tiled, format: .f16) }
    func testSubgroupF32() throws { try check(variant: .subgroup, format: .f32) }
    func testSubgroupF16() throws { try check(variant: .subgroup, format: .f16) }
    func testGEMVF32() throws { try check(variant: .gemv, format: .f32) }
    func testGEMVF16() throws { try check(variant: .gemv, format: .f16) }
    func testFP16Activations() throws {
        for v in variants {
            try check(variant: v, format: .f16, activation: .gelu, activations: .f16)
            try check(variant: v, format: .f32, activations: .f16)
        }
    }

    /// bf16, q8 and q4 weights: every kernel, fp32 and fp16 activations, against the
    /// reference on the dequantized weights.
    func checkStoredFormat(_ format: WeightFormat) throws {
        let activationTypes: [StorageType] = device.capabilities.storageBuffer16BitAccess ? [.f32, .f16] : [.f32]
        for v in variants {
            for activations in activationTypes { try check(variant: v, format: format, activations: activations) }
        }
    }
    func testBF16Weights() throws { try checkStoredFormat(.bf16) }
    func testQ8Weights() throws { try checkStoredFormat(.q8) }
    func testQ4Weights() throws { try checkStoredFormat(.q4) }

    /// Every format split into row slices by a small binding limit (as the LM head is on a
    /// 128 MiB limit), with the epilogue.
    func testRowSlicesEveryFormat() throws {
        for format in WeightFormat.allCases {
            let limit = 9 * format.rowBytes(cols: 192) + 4  // a few rows per slice at K = 192
            for v in variants { try check(variant: v, format: format, activation: .silu, bindingLimit: limit) }
        }
    }

    /// Quantized formats refuse a K that is not a multiple of their block, with a clear answer.
    func testQuantizedShapeSupport() {
        let caps = device.capabilities
        for v in LinearOp.Variant.allCases {
            XCTAssertFalse(LinearOp.supports(v, caps: caps, m: 1, k: 96, format: .q4), "\(v)")
            XCTAssertFalse(LinearOp.supports(v, caps: caps, m: 1, k: 48, format: .q8), "\(v)")
            XCTAssertFalse(LinearOp.supports(v, caps: caps, m: 1, k: 36, format: .q8), "\(v)")
        }
        XCTAssertEqual(LinearOp.supports(.gemv, caps: caps, m: 1, k: 64, format: .q4), caps.hasSubgroupArithmetic)
        XCTAssertTrue(LinearOp.supports(.tiled, caps: caps, m: 1, k: 96, format: .q8))
        XCTAssertTrue(LinearOp.supports(.tiled, caps: caps, m: 3, k: 17, format: .bf16))
        XCTAssertFalse(LinearOp.supports(.gemv, caps: caps, m: 3, k: 17, format: .bf16))
    }

    /// Profiles count the bytes a format really stores (codes, scales, padding).
    func testProfiledBytesAreStoredBytes() throws {
        let (m, n, k) = (1, 24, 128)
        let gx = try buffer(randomValues(m * k, seed: 6))
        for format in WeightFormat.allCases {
            let weight = try LinearWeight(device: device, values: randomValues(n * k, seed: 5), rows: n, cols: k, format: format)
            let gy = try zeros(m * n)
            let seq = CommandSequence(device: device, label: "bytes", profiling: true)
            try LinearOp.encode(seq, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m)
            try seq.run()
            XCTAssertEqual(seq.timings.first?.bytes, Double(n * format.rowBytes(cols: k) + (m * k + m * n) * 4), "\(format)")
        }
    }

    func testNoBias() throws {
        for v in variants { try check(variant: v, format: .f16, bias: false) }
    }
    func testFusedActivations() throws {
        for v in variants {
            try check(variant: v, format: .f16, activation: .gelu)
            try check(variant: v, format: .f32, activation: .silu)
            try check(variant: v, format: .q4, activation: .gelu)
        }
    }

    /// The RepMixer / residual epilogue: y = x + gamma * gelu(x W^T + b), in place.
    func testScaleAndResidualInPlace() throws {
        for v in variants {
            for (m, n, k) in [(1, 8, 8), (5, 36, 36), (67, 64, 64)] where LinearOp.supports(v, caps: device.capabilities, m: m, k: k) {
                let x = randomValues(m * k, seed: 11)
                let w = roundedToHalf(randomValues(n * k, seed: 12, scale: 0.3))
                let b = randomValues(n, seed: 13), g = randomValues(n, seed: 14)
                let res = randomValues(m * n, seed: 15)
                let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: .f16)
                let (gx, gb, gg, gr) = (try buffer(x), try buffer(b), try buffer(g), try buffer(res))
                try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gr.view, m: m, activation: .gelu,
                                              scale: gg.view, residual: gr.view, variant: v) }
                let lin = Reference.linear(x: x, m: m, k: k, weight: w, n: n, bias: b)
                let expected = (0..<m * n).map { res[$0] + g[$0 % n] * Reference.gelu(lin[$0]) }
                XCTAssertLessThan(nmse(try read(gr, m * n), expected), tolerance(.f16, .f32, v), "\(v) \(m)x\(n)x\(k)")
            }
        }
    }

    /// The decode down projection over stacked [gate | up] rows: y = residual + W (silu(gate) * up) + b,
    /// in place on the residual, against SwiGLU then linear on the host. K is a multiple of 4
    /// and N is not a multiple of the GEMV's 4 rows per block.
    func testGEMVOverSwiGLUInput() throws {
        try XCTSkipUnless(LinearOp.supports(.gemv, caps: device.capabilities, m: 1, k: 4), "no gemv on this device")
        let activationTypes: [StorageType] = device.capabilities.storageBuffer16BitAccess ? [.f32, .f16] : [.f32]
        let shapes = [(1, 5, 4), (2, 7, 12), (3, 33, 36), (1, 130, 100), (3, 61, 68), (1, 5, 64), (2, 7, 96), (3, 33, 192), (1, 130, 128)]
        for format in WeightFormat.allCases {
            for activations in activationTypes {
                var ran = 0
                for (m, n, k) in shapes where LinearOp.supports(.gemv, caps: device.capabilities, m: m, k: k, format: format) {
                    var gateUp = randomValues(m * 2 * k, seed: UInt64(41 + k), scale: 2)
                    if activations == .f16 { gateUp = roundedToHalf(gateUp) }
                    let w = randomValues(n * k, seed: UInt64(42 + n), scale: 0.5)
                    let b = randomValues(n, seed: 43)
                    var res = randomValues(m * n, seed: 44)
                    if activations == .f16 { res = roundedToHalf(res) }
                    let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
                    let (gx, gb, gr) = (try buffer(gateUp, as: activations), try buffer(b), try buffer(res, as: activations))
                    try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gr.view, m: m, residual: gr.view,
                                                  activations: activations, variant: .gemv, input: .swiGLU) }
                    let gated = (0..<m * k).map { i in Reference.silu(gateUp[(i / k) * 2 * k + i % k]) * gateUp[(i / k) * 2 * k + k + i % k] }
                    let lin = Reference.linear(x: gated, m: m, k: k, weight: stored(w, rows: n, cols: k, format: format), n: n, bias: b)
                    let expected = (0..<m * n).map { res[$0] + lin[$0] }
                    XCTAssertLessThan(nmse(try read(gr, m * n, as: activations), expected), tolerance(format, activations),
                                      "\(format) \(m)x\(n)x\(k) activations \(activations)")
                    ran += 1
                }
                XCTAssertGreaterThan(ran, 0, "\(format)")
            }
        }
    }

    /// The GEMV with the RMSNorm folded in, against RMSNorm then linear on the CPU: every
    /// weight format, fp32 and fp16 rows (the reference normalises in fp32 without rounding the
    /// normalised row: the kernel never stores it), M up to 8, N not a multiple of 4, rows
    /// whose scale is far from 1, with bias and residual epilogues, a weight split in slices.
    func testGEMVOverRMSNormInput() throws {
        try XCTSkipUnless(LinearOp.supports(.gemv, caps: device.capabilities, m: 1, k: 4), "no gemv on this device")
        let activationTypes: [StorageType] = device.capabilities.storageBuffer16BitAccess ? [.f32, .f16] : [.f32]
        let shapes = [(1, 5, 4), (2, 7, 12), (3, 33, 36), (1, 130, 100), (8, 61, 68), (1, 5, 64), (2, 7, 96), (3, 33, 192), (1, 130, 896)]
        let eps: Float = 1e-6
        for format in WeightFormat.allCases {
            for activations in activationTypes {
                var ran = 0
                for (i, (m, n, k)) in shapes.enumerated() where LinearOp.supports(.gemv, caps: device.capabilities, m: m, k: k, format: format) {
                    var x = randomValues(m * k, seed: UInt64(61 + k), scale: i % 2 == 0 ? 40 : 0.05)
                    if activations == .f16 { x = roundedToHalf(x) }
                    let g = randomValues(k, seed: UInt64(62 + k), scale: 2)
                    let w = randomValues(n * k, seed: UInt64(63 + n), scale: 0.5)
                    let b = randomValues(n, seed: 64)
                    var res = randomValues(m * n, seed: 65)
                    if activations == .f16 { res = roundedToHalf(res) }
                    let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
                    let (gx, gg, gb, gr) = (try buffer(x, as: activations), try buffer(g), try buffer(b), try buffer(res, as: activations))
                    let limit = i == 4 ? 16 * format.rowBytes(cols: k) + 4 : nil
                    try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: gr.view, m: m, residual: gr.view,
                                                  activations: activations, variant: .gemv, input: .rmsNorm(weight: gg.view, eps: eps), bindingLimit: limit) }
                    let normed = Reference.rmsNorm(x, rows: m, width: k, weight: g, eps: eps)
                    let lin = Reference.linear(x: normed, m: m, k: k, weight: stored(w, rows: n, cols: k, format: format), n: n, bias: b)
                    let expected = (0..<m * n).map { res[$0] + lin[$0] }
                    XCTAssertLessThan(nmse(try read(gr, m * n, as: activations), expected), tolerance(format, activations),
                                      "\(format) \(m)x\(n)x\(k) activations \(activations)")
                    // fp32 Y and residual over fp16 rows (the LM head's logits): only the input rounding remains.
                    if activations == .f16 {
                        let wide = try buffer(res)
                        try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: gb.view, y: wide.view, m: m, residual: wide.view,
                                                      activations: .f16, output: .f32, variant: .gemv, input: .rmsNorm(weight: gg.view, eps: eps)) }
                        XCTAssertLessThan(nmse(try read(wide, m * n), expected), format == .f32 ? Tolerance.fp32 : Tolerance.fp16Weights,
                                          "\(format) \(m)x\(n)x\(k) fp32 output")
                    }
                    ran += 1
                }
                XCTAssertGreaterThan(ran, 0, "\(format)")
            }
        }
    }

    /// The folded norm is a GEMV feature: other kernels refuse it, and its weight must hold K values.
    func testRMSNormInputErrors() throws {
        let (m, n, k) = (2, 8, 16)
        let weight = try LinearWeight(device: device, values: randomValues(n * k, seed: 71), rows: n, cols: k, format: .f32)
        let (gx, gy, short) = (try buffer(randomValues(m * k, seed: 72)), try zeros(m * n), try buffer(randomValues(k - 4, seed: 73)))
        let full = try buffer(randomValues(k, seed: 74))
        for v in [LinearOp.Variant.tiled, .subgroup] where LinearOp.supports(v, caps: device.capabilities, m: m, k: k) {
            XCTAssertThrowsError(try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, variant: v,
                                                               input: .rmsNorm(weight: full.view, eps: 1e-6)) }) {
                XCTAssertTrue("\($0)".contains("gemv"), "\($0)")
            }
        }
        if LinearOp.supports(.gemv, caps: device.capabilities, m: m, k: k) {
            XCTAssertThrowsError(try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, variant: .gemv,
                                                               input: .rmsNorm(weight: short.view, eps: 1e-6)) }) {
                XCTAssertTrue("\($0)".contains("RMSNorm"), "\($0)")
            }
            // fp16 rows from fp32 ones only under a folded norm (MixedStorageTests has the rest).
            XCTAssertThrowsError(try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, output: .f16, variant: .gemv) })
        }
    }

    /// The stacked input is a GEMV feature: other kernels refuse it, and X must hold 2K per row.
    func testSwiGLUInputErrors() throws {
        let (m, n, k) = (2, 8, 16)
        let weight = try LinearWeight(device: device, values: randomValues(n * k, seed: 51), rows: n, cols: k, format: .f32)
        let (gx, gy) = (try buffer(randomValues(m * 2 * k, seed: 52)), try zeros(m * n))
        for v in [LinearOp.Variant.tiled, .subgroup, .coopmat] where LinearOp.supports(v, caps: device.capabilities, m: m, k: k) {
            XCTAssertThrowsError(try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, variant: v, input: .swiGLU) }) {
                XCTAssertTrue("\($0)".contains("gemv"), "\($0)")
            }
        }
        if LinearOp.supports(.gemv, caps: device.capabilities, m: m, k: k) {
            let short = try buffer(randomValues(m * k, seed: 53))
            XCTAssertThrowsError(try run { try LinearOp.encode($0, x: short.view, weight: weight, bias: nil, y: gy.view, m: m, variant: .gemv, input: .swiGLU) })
        }
    }

    /// The 151936 x 896 fp16 LM head (272 MB) exceeds lavapipe's 128 MiB binding limit.
    func testWeightLargerThanOneBinding() throws {
        let (n, k) = (151_936, 896)
        let pattern = randomValues(1 << 16, seed: 21, scale: 0.5).map { Float(Float16($0)) }
        var w = [Float](); w.reserveCapacity(n * k)
        while w.count < n * k { w.append(contentsOf: pattern.prefix(n * k - w.count)) }
        // Make rows distinguishable across slices.
        for row in stride(from: 0, to: n, by: 997) { w[row * k] = Float(Float16(Float(row % 61) / 8)) }
        let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: .f16)
        XCTAssertGreaterThan(weight.byteCount, device.capabilities.maxStorageBufferRange > 1 << 30 ? 0 : device.capabilities.maxStorageBufferRange)
        let x = randomValues(k, seed: 22)
        let (gx, gy) = (try buffer(x), try zeros(n))
        for v in [LinearOp.Variant.gemv, .tiled] {
            try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: 1, variant: v) }
            let expected = Reference.linear(x: x, m: 1, k: k, weight: w, n: n, bias: nil)
            XCTAssertLessThan(nmse(try read(gy, n), expected), Tolerance.fp16Weights, "\(v)")
        }
    }

    /// Parts of a stacked [q; k; v] weight run as weights of their own and give the same rows
    /// as the whole; a part that would start at an unbindable offset is refused.
    func testRowRangesOfAStackedWeight() throws {
        let (k, parts) = (64, [64, 32, 32])
        let n = parts.reduce(0, +)
        for format in WeightFormat.allCases {
            let w = stored(randomValues(n * k, seed: 31, scale: 0.5), rows: n, cols: k, format: format)
            let stacked = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
            for m in [1, 5, 20] {
                let x = randomValues(m * k, seed: UInt64(32 + m))
                let whole = Reference.linear(x: x, m: m, k: k, weight: w, n: n, bias: nil)
                let gx = try buffer(x)
                var first = 0
                for rows in parts {
                    let part = try stacked.rows(first..<first + rows)
                    XCTAssertEqual(part.byteOffset, first * format.rowBytes(cols: k))
                    let gy = try zeros(m * rows)
                    try run { try LinearOp.encode($0, x: gx.view, weight: part, bias: nil, y: gy.view, m: m) }
                    let expected = (0..<m * rows).map { whole[($0 / rows) * n + first + $0 % rows] }
                    XCTAssertLessThan(nmse(try read(gy, m * rows), expected), Tolerance.fp16Weights, "\(format) m \(m) rows \(first)..<\(first + rows)")
                    first += rows
                }
            }
            let alignment = max(4, device.capabilities.minStorageBufferOffsetAlignment)
            if !format.isQuantized, alignment > format.rowBytes(cols: 1) {
                let odd = try LinearWeight(device: device, values: [Float](repeating: 0, count: 3 * 3), rows: 3, cols: 3, format: format)
                XCTAssertFalse(odd.canSplit(atRow: 1))
                XCTAssertThrowsError(try odd.rows(1..<3))
            }
        }
    }

    /// Profiling records one timing per dispatch with the op's FLOP count.
    func testProfiledDispatchTimings() throws {
        let (m, n, k) = (4, 32, 64)
        let weight = try LinearWeight(device: device, values: randomValues(n * k, seed: 5), rows: n, cols: k, format: .f32)
        let (gx, gy) = (try buffer(randomValues(m * k, seed: 6)), try zeros(m * n))
        let seq = CommandSequence(device: device, label: "profiled", profiling: true)
        for _ in 0..<3 { try LinearOp.encode(seq, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m) }
        try seq.run()
        XCTAssertEqual(seq.timings.count, 3)
        XCTAssertTrue(seq.timings.allSatisfy { $0.flops == Double(2 * m * n * k) })
        // Each dispatch takes time, and the barriers between them order them.
        XCTAssertTrue(seq.timings.allSatisfy { $0.durationNs > 0 }, "\(seq.timings.map(\.durationNs))")
        for (a, b) in zip(seq.timings, seq.timings.dropFirst()) {
            XCTAssertGreaterThanOrEqual(b.startNs, a.startNs + a.durationNs, "a dispatch started before the one it waits for ended")
        }
        XCTAssertEqual(seq.stats.barriers, 2 + 1)   // each repetition overwrites Y (write-after-write), plus the final host barrier
    }

    /// A weight bigger than one binding is split into row slices at aligned offsets.
    func testRowSlicesCoverLargeWeights() throws {
        // Lavapipe's limits for the 0.5B LM head, then tiny ones, whatever this device has.
        var caps = device.capabilities
        caps.maxStorageBufferRange = 128 << 20
        caps.minStorageBufferOffsetAlignment = 16
        let slices = LinearOp.slices(rows: 151_936, rowBytes: 896 * 2, caps: caps)
        XCTAssertGreaterThan(slices.count, 1, "a 272 MB weight must not fit one 128 MiB binding")
        XCTAssertEqual(slices.first?.lowerBound, 0)
        XCTAssertEqual(slices.last?.upperBound, 151_936)
        for (a, b) in zip(slices, slices.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        for s in slices {
            XCTAssertLessThanOrEqual(s.count * 896 * 2, caps.maxStorageBufferRange)
            XCTAssertEqual(s.lowerBound * 896 * 2 % caps.minStorageBufferOffsetAlignment, 0)
        }
        caps.maxStorageBufferRange = 1000
        caps.minStorageBufferOffsetAlignment = 64
        let small = LinearOp.slices(rows: 100, rowBytes: 36, caps: caps)
        XCTAssertGreaterThan(small.count, 1)
        for s in small { XCTAssertLessThanOrEqual(s.count * 36, 1000); XCTAssertEqual(s.lowerBound * 36 % 64, 0) }
    }
}
