import XCTest
import VulkanCore
@testable import Ops

/// The register-blocked tiled GEMM at each of its tiles (forced, since the small shapes a test
/// affords would otherwise always get the 64 x 64 one), over every weight format, both
/// activation storages, every epilogue and shapes off every tile and K step.
final class TiledGEMMTests: GPUTestCase {
    let tiles = [GEMMTiles.SIMT(mGroups: 1, nGroups: 1), GEMMTiles.SIMT(mGroups: 2, nGroups: 1),
                 GEMMTiles.SIMT(mGroups: 1, nGroups: 2), GEMMTiles.SIMT(mGroups: 2, nGroups: 2)]
    /// K % 4 != 0 (scalar loads), K % 8 != 0 (a half K step), K < 8, M and N past 128.
    let floatShapes = [(1, 3, 5), (3, 33, 17), (37, 61, 100), (130, 129, 36), (129, 200, 12)]
    /// K a whole number of q8 / q4 blocks (four for q4: one per epilogue).
    let blockShapes = [(2, 7, 96), (67, 130, 192), (131, 65, 128), (5, 140, 64), (1, 70, 256)]

    var activationTypes: [StorageType] { device.capabilities.storageBuffer16BitAccess ? [.f32, .f16] : [.f32] }

    enum Epilogue: CaseIterable { case plain, biasGELU, biasSiLU, scaleResidual }

    /// Each shape with the next epilogue in turn, so every epilogue meets every tile, format and
    /// activation storage at two or more shapes.
    func check(tile: GEMMTiles.SIMT, format: WeightFormat, activations: StorageType) throws {
        var ran = 0
        for (m, n, k) in floatShapes + blockShapes where format.supports(cols: k) {
            let epilogue = Epilogue.allCases[ran % Epilogue.allCases.count]
            var x = randomValues(m * k, seed: UInt64(m * 31 + k))
            if activations == .f16 { x = roundedToHalf(x) }
            let w = randomValues(n * k, seed: UInt64(n * 7 + k), scale: 0.5)
            let b = randomValues(n, seed: UInt64(n + 1)), g = randomValues(n, seed: UInt64(n + 2))
            var res = randomValues(m * n, seed: UInt64(m + n))
            if activations == .f16 { res = roundedToHalf(res) }
            let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
            let (gx, gb, gg) = (try buffer(x, as: activations), try buffer(b), try buffer(g))
            // The residual epilogue runs in place on Y; the others write a NaN-filled Y.
            let gy = try buffer(epilogue == .scaleResidual ? res : [Float](repeating: .nan, count: m * n), as: activations)
            let activation: LinearOp.Activation = epilogue == .biasGELU || epilogue == .scaleResidual ? .gelu : epilogue == .biasSiLU ? .silu : .none
            let hasBias = epilogue != .plain
            try run {
                try LinearOp.encode($0, x: gx.view, weight: weight, bias: hasBias ? gb.view : nil, y: gy.view, m: m, activation: activation,
                                    scale: epilogue == .scaleResidual ? gg.view : nil, residual: epilogue == .scaleResidual ? gy.view : nil,
                                    activations: activations, variant: .tiled, bindingLimit: nil, simtTile: tile)
            }
            let stored = WeightPacking.roundTrip(w, rows: n, cols: k, format: format)
            let lin = Reference.linear(x: x, m: m, k: k, weight: stored, n: n, bias: hasBias ? b : nil)
            let expected: [Float] = (0..<m * n).map { i in
                switch epilogue {
                case .plain: return lin[i]
                case .biasGELU: return Reference.gelu(lin[i])
                case .biasSiLU: return Reference.silu(lin[i])
                case .scaleResidual: return res[i] + g[i % n] * Reference.gelu(lin[i])
                }
            }
            let tolerance = activations == .f16 ? Tolerance.fp16Activations : format == .f32 ? Tolerance.fp32 : Tolerance.fp16Weights
            XCTAssertLessThan(nmse(try read(gy, m * n, as: activations), expected), tolerance,
                              "tile \(tile) \(format) \(m)x\(n)x\(k) activations \(activations) \(epilogue)")
            ran += 1
        }
        XCTAssertGreaterThanOrEqual(ran, Epilogue.allCases.count, "\(format)")
    }

    func checkFormat(_ format: WeightFormat) throws {
        for tile in tiles where tile.sharedBytes <= device.capabilities.maxComputeSharedMemorySize {
            for activations in activationTypes { try check(tile: tile, format: format, activations: activations) }
        }
    }

    func testF32() throws { try checkFormat(.f32) }
    func testF16() throws { try checkFormat(.f16) }
    func testBF16() throws { try checkFormat(.bf16) }
    func testQ8() throws { try checkFormat(.q8) }
    func testQ4() throws { try checkFormat(.q4) }

    /// Every tile fits lavapipe's 32 KiB and the Vulkan minimum leaves out only 128 x 128.
    func testTilesFitTheDevice() {
        XCTAssertTrue(tiles.allSatisfy { $0.sharedBytes <= device.capabilities.maxComputeSharedMemorySize })
        XCTAssertGreaterThan(GEMMTiles.SIMT(mGroups: 2, nGroups: 2).sharedBytes, 16384)
        XCTAssertLessThanOrEqual(GEMMTiles.SIMT(mGroups: 2, nGroups: 1).sharedBytes, 16384)
    }

    /// Tile choice: 128 a side only where the matrix is larger than 64 on that side and the grid
    /// still has enough workgroups; within shared memory; none without 256 invocations.
    func testTileChoice() {
        var caps = device.capabilities
        caps.maxComputeSharedMemorySize = 48 << 10
        caps.maxComputeWorkGroupInvocations = 1024
        XCTAssertEqual(GEMMTiles.simt(caps: caps, m: 4096, n: 3072), GEMMTiles.SIMT(mGroups: 2, nGroups: 2))
        XCTAssertEqual(GEMMTiles.simt(caps: caps, m: 300, n: 896), GEMMTiles.SIMT(mGroups: 1, nGroups: 1), "21 groups at 128 x 128")
        XCTAssertEqual(GEMMTiles.simt(caps: caps, m: 1, n: 151_936), GEMMTiles.SIMT(mGroups: 1, nGroups: 2))
        XCTAssertEqual(GEMMTiles.simt(caps: caps, m: 20_000, n: 64), GEMMTiles.SIMT(mGroups: 2, nGroups: 1))
        XCTAssertEqual(GEMMTiles.simt(caps: caps, m: 37, n: 61), GEMMTiles.SIMT(mGroups: 1, nGroups: 1))
        caps.maxComputeSharedMemorySize = 16384  // the Vulkan minimum: no 128 x 128
        XCTAssertEqual(GEMMTiles.simt(caps: caps, m: 4096, n: 3072), GEMMTiles.SIMT(mGroups: 2, nGroups: 1))
        caps.maxComputeWorkGroupInvocations = 128
        XCTAssertNil(GEMMTiles.simt(caps: caps, m: 4096, n: 3072))
        XCTAssertFalse(LinearOp.supports(.tiled, caps: caps, m: 64, k: 64))
    }

    /// The previous kernel, kept as the benchmark's baseline, still computes the same product.
    func testTiledV1BaselineMatchesReference() throws {
        let (m, n, k) = (70, 130, 36)
        let x = randomValues(m * k, seed: 3), w = roundedToHalf(randomValues(n * k, seed: 4, scale: 0.5))
        let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: .f16)
        let (gx, gy) = (try buffer(x), try zeros(m * n))
        try run { try LinearOp.encodeTiledV1($0, x: gx.view, weight: weight, y: gy.view, m: m, activations: .f32) }
        XCTAssertLessThan(nmse(try read(gy, m * n), Reference.linear(x: x, m: m, k: k, weight: w, n: n, bias: nil)), Tolerance.fp16Weights)
    }

    /// The policy's check passes for every variant lavapipe runs (the same check gates coopmat on a GPU).
    func testVariantChecksPass() throws {
        var checked: [LinearOp.Variant] = []
        for v in LinearOp.Variant.allCases where LinearOp.supports(v, caps: device.capabilities, m: v == .gemv ? 5 : 37, k: 96, format: .q8) {
            XCTAssertTrue(try Selftest.check("linear.\(v.rawValue)", on: device), "\(v)")
            checked.append(v)
        }
        XCTAssertTrue(checked.contains(.tiled), "\(checked)")
    }
}
