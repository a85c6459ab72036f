import XCTest
import VulkanCore
@testable import Ops

/// The cooperative-matrix GEMM cannot run here (no software Vulkan device has cooperative
/// matrices): what CI checks is detection, refusal, the compiled SPIR-V and the tile choice.
/// On a device that has it, LinearOpTests runs the variant against the reference.
final class CooperativeMatrixTests: GPUTestCase {
    /// Lavapipe reports no cooperative matrix; coopmat is then unsupported, and encoding and the
    /// quick check refuse it with an error that says what is missing.
    func testLavapipeHasNoCooperativeMatrix() throws {
        let caps = device.capabilities
        try XCTSkipUnless(caps.type == "cpu", "checks the software device CI runs on; \(caps.name) is a GPU")
        XCTAssertFalse(caps.cooperativeMatrix)
        XCTAssertTrue(caps.cooperativeMatrixShapes.nv.isEmpty)
        XCTAssertTrue(caps.cooperativeMatrixShapes.khr.isEmpty)
        XCTAssertNil(GEMMTiles.coopmat(caps: caps))
        for format in WeightFormat.allCases {
            XCTAssertFalse(LinearOp.supports(.coopmat, caps: caps, m: 64, k: 256, format: format), "\(format)")
        }
        XCTAssertNotEqual(KernelPolicy(capabilities: caps).linear(m: 256, k: 256), .coopmat)

        let (m, n, k) = (4, 16, 32)
        let weight = try LinearWeight(device: device, values: randomValues(n * k, seed: 1), rows: n, cols: k, format: .f16)
        let (gx, gy) = (try buffer(randomValues(m * k, seed: 2)), try zeros(m * n))
        XCTAssertThrowsError(try run { try LinearOp.encode($0, x: gx.view, weight: weight, bias: nil, y: gy.view, m: m, variant: .coopmat) }) {
            XCTAssertTrue("\($0)".contains("coopmat") && "\($0)".contains("VK_NV_cooperative_matrix"), "\($0)")
        }
        // The check the policy runs before choosing it: its selftest cases are all "not supported" here.
        XCTAssertFalse(try Selftest.check("linear.coopmat", on: device))
    }

    /// The shader compiled for every format and activation storage, as SPIR-V using the NV
    /// cooperative-matrix capability.
    func testCoopmatSPIRVExists() throws {
        let names = ShaderLibrary.linear_coopmat_variants.map(\.name)
        for format in WeightFormat.allCases {
            for activations in [StorageType.f32, .f16] {
                let shader = try LinearOp.shader(.coopmat, weights: format, x: activations, y: activations)
                XCTAssertTrue(names.contains(shader.name))
                let words = shader.words
                XCTAssertEqual(words.first, 0x0723_0203, "\(shader.name): SPIR-V magic")
                // OpCapability (opcode 17, two words) CooperativeMatrixNV (5357).
                let declares = zip(words, words.dropFirst()).contains { $0 == (2 << 16 | 17) && $1 == 5357 }
                XCTAssertTrue(declares, "\(shader.name) does not declare CooperativeMatrixNV")
            }
        }
    }

    /// Only fp16 x fp16 + fp32 -> fp32 subgroup-scope entries count, each shape once.
    func testShapesFromProperties() {
        let (f16, f32, sg) = (CooperativeMatrixProperty.float16, CooperativeMatrixProperty.float32, CooperativeMatrixProperty.subgroupScope)
        let sint8: UInt32 = 3, workgroup: UInt32 = 2
        let reported = [
            CooperativeMatrixProperty(m: 16, n: 8, k: 16, a: f16, b: f16, c: f16, result: f16, scope: sg),      // fp16 accumulation
            CooperativeMatrixProperty(m: 16, n: 8, k: 16, a: f16, b: f16, c: f32, result: f32, scope: sg),
            CooperativeMatrixProperty(m: 16, n: 8, k: 8, a: f16, b: f16, c: f32, result: f32, scope: sg),
            CooperativeMatrixProperty(m: 16, n: 8, k: 32, a: sint8, b: sint8, c: 5, result: 5, scope: sg),      // int8
            CooperativeMatrixProperty(m: 16, n: 16, k: 16, a: f16, b: f16, c: f32, result: f32, scope: workgroup),
            CooperativeMatrixProperty(m: 16, n: 8, k: 16, a: f16, b: f16, c: f32, result: f32, scope: sg),      // repeated
            CooperativeMatrixProperty(m: 0, n: 8, k: 16, a: f16, b: f16, c: f32, result: f32, scope: sg),       // malformed
        ]
        XCTAssertEqual(CooperativeMatrixShape.fp16AccumulatingFP32(reported),
                       [CooperativeMatrixShape(m: 16, n: 8, k: 16), CooperativeMatrixShape(m: 16, n: 8, k: 8)])
        XCTAssertEqual(CooperativeMatrixShape.fp16AccumulatingFP32([]), [])
    }

    /// The tile comes from the reported shapes (never an assumed 16 x 16 x 16): the biggest one
    /// whose tile fits shared memory and the invocation limit, K steps of about 32.
    func testTileFromShapes() {
        var caps = device.capabilities
        (caps.shaderFloat16, caps.subgroupSize, caps.minSubgroupSize, caps.maxSubgroupSize) = (true, 32, 32, 32)
        (caps.maxComputeSharedMemorySize, caps.maxComputeWorkGroupInvocations) = (48 << 10, 1024)
        let s = { (m: Int, n: Int, k: Int) in CooperativeMatrixShape(m: m, n: n, k: k) }

        let turing = GEMMTiles.coopmat(shapes: [s(16, 8, 8), s(16, 8, 16)], caps: caps)
        XCTAssertEqual(turing?.shape, s(16, 8, 16))
        XCTAssertEqual(turing?.depth, 32)
        XCTAssertEqual(turing?.tileM, 64)
        XCTAssertEqual(turing?.tileN, 32)
        XCTAssertEqual(turing?.specialization, [128, 16, 8, 16, 2, 2, 32])

        let big = [s(16, 16, 16), s(32, 32, 16)]
        XCTAssertEqual(GEMMTiles.coopmat(shapes: big, caps: caps)?.shape, s(32, 32, 16))
        XCTAssertEqual(GEMMTiles.coopmat(shapes: big, caps: caps)?.sharedBytes, 256 * 40 * 2 + 4 * 32 * 32 * 4)
        caps.maxComputeSharedMemorySize = 32 << 10   // 32x32x16's tile (36 KiB) no longer fits
        XCTAssertEqual(GEMMTiles.coopmat(shapes: big, caps: caps)?.shape, s(16, 16, 16))
        XCTAssertEqual(GEMMTiles.coopmat(shapes: [s(16, 16, 64)], caps: caps)?.depth, 64)

        XCTAssertNil(GEMMTiles.coopmat(shapes: [s(16, 16, 4)], caps: caps), "K steps of 4 halves break 16-byte alignment")
        XCTAssertNil(GEMMTiles.coopmat(shapes: [], caps: caps))
        var wave = caps
        (wave.subgroupSize, wave.minSubgroupSize, wave.maxSubgroupSize) = (64, 32, 64)
        XCTAssertNil(GEMMTiles.coopmat(shapes: big, caps: wave), "a varying subgroup size")
        (wave.minSubgroupSize, wave.maxSubgroupSize) = (64, 64)
        XCTAssertEqual(GEMMTiles.coopmat(shapes: [s(16, 16, 16)], caps: wave)?.invocations, 256)
        var noHalf = caps
        noHalf.shaderFloat16 = false
        XCTAssertNil(GEMMTiles.coopmat(shapes: big, caps: noHalf))
    }
}
