import XCTest
import VulkanCore
@testable import Ops

/// What each kernel class chooses for a CPU-like and a GPU-like device, and how the choice is made.
final class KernelPolicyTests: GPUTestCase {
    func caps(type: String, fp16: Bool = true) -> DeviceCapabilities {
        var c = device.capabilities
        c.type = type
        c.subgroupOperations = ["basic", "vote", "arithmetic", "ballot", "shuffle"]
        c.shaderFloat16 = fp16
        c.storageBuffer16BitAccess = fp16
        return c
    }

    func testCPUDeviceChoosesTheCPUClass() {
        let p = KernelPolicy(capabilities: caps(type: "cpu"))
        XCTAssertEqual(p.kernelClass, .cpu)
        XCTAssertEqual(p.linear(m: 1, k: 896), .gemv)
        XCTAssertEqual(p.linear(m: 256, k: 896), .subgroup)
        XCTAssertEqual(p.linear(m: 256, k: 17), .tiled, "K off vec4: only the tiled kernel takes it")
        XCTAssertEqual(p.conv2dTile(kernel: 3), Conv2DOp.Tile(width: 8, height: 2, channelGroups: 2))
        XCTAssertEqual(p.conv2dTile(kernel: 7), Conv2DOp.Tile(width: 4, height: 2, channelGroups: 1))
        XCTAssertEqual(p.depthwiseTile, DepthwiseConv2DOp.Tile(width: 8, height: 2))
        XCTAssertEqual(p.attention, .direct)
        XCTAssertEqual(p.decodeAttention, .keysPerInvocation)
        XCTAssertEqual(p.decodeAttentionSplits, 2)
        XCTAssertFalse(p.fusesSwiGLU)
        XCTAssertEqual(p.decoderActivations, .f32)
        XCTAssertEqual(p.kvCache, .f32)
    }

    func testGPUDevicesChooseTheGPUClass() {
        for type in ["discrete", "integrated", "virtual", "other"] {
            let p = KernelPolicy(capabilities: caps(type: type))
            XCTAssertEqual(p.kernelClass, .gpu, type)
            XCTAssertEqual(p.linear(m: 1, k: 896), .gemv)
            XCTAssertEqual(p.linear(m: 256, k: 896), .tiled)
            XCTAssertEqual(p.conv2dTile(kernel: 3), Conv2DOp.Tile(width: 4, height: 1, channelGroups: 1))
            XCTAssertEqual(p.depthwiseTile, DepthwiseConv2DOp.Tile(width: 4, height: 1))
            XCTAssertEqual(p.attention, .staged)
            XCTAssertEqual(p.decodeAttention, .rowPerInvocation)
            XCTAssertEqual(p.decodeAttentionSplits, 32)
            XCTAssertTrue(p.fusesSwiGLU)
            XCTAssertEqual(p.decoderActivations, .f16)
            XCTAssertEqual(p.kvCache, .f16)
        }
        let noHalf = KernelPolicy(capabilities: caps(type: "discrete", fp16: false))
        XCTAssertEqual(noHalf.decoderActivations, .f32, "no shaderFloat16 / 16-bit storage: fp32 storage")
        XCTAssertEqual(noHalf.kvCache, .f32)
    }

    func testForcedClassWinsOverTheDeviceType() {
        XCTAssertEqual(KernelPolicy(capabilities: caps(type: "cpu"), choice: .gpu).kernelClass, .gpu)
        XCTAssertEqual(KernelPolicy(capabilities: caps(type: "cpu"), choice: .gpu).linear(m: 256, k: 896), .tiled)
        XCTAssertEqual(KernelPolicy(capabilities: caps(type: "discrete"), choice: .cpu).kernelClass, .cpu)
        XCTAssertEqual(KernelPolicy(capabilities: caps(type: "discrete"), choice: .cpu).attention, .direct)
    }

    /// Without subgroup operations the GEMV and subgroup GEMM cannot run: the tiled one is left.
    func testUnsupportedVariantsAreSkipped() {
        var c = caps(type: "cpu")
        c.subgroupOperations = ["basic"]
        let p = KernelPolicy(capabilities: c)
        XCTAssertEqual(p.linear(m: 1, k: 896), .tiled)
        XCTAssertEqual(p.linear(m: 256, k: 896), .tiled)
    }

    /// Every LinearOp variant is ranked (a new one is appended, never dropped).
    func testEveryLinearVariantIsACandidate() {
        for choice in [KernelChoice.cpu, .gpu] {
            let candidates = KernelPolicy(capabilities: device.capabilities, choice: choice).linearCandidates
            XCTAssertEqual(Set(candidates), Set(LinearOp.Variant.allCases))
            XCTAssertEqual(candidates.count, LinearOp.Variant.allCases.count)
        }
    }

    /// A variant that needs a check is used only when the check passed.
    func testCheckedVariantsNeedAPassedCheck() {
        let name = KernelPolicy.verifiedBeforeUse.first!
        XCTAssertFalse(KernelPolicy(capabilities: device.capabilities).usable(name), "no verifier: never used")
        XCTAssertFalse(KernelPolicy(capabilities: device.capabilities, verified: { _ in false }).usable(name))
        XCTAssertTrue(KernelPolicy(capabilities: device.capabilities, verified: { _ in true }).usable(name))
        XCTAssertTrue(KernelPolicy(capabilities: device.capabilities, verified: { _ in false }).usable("linear.tiled"), "unchecked variants need nothing")
    }

    /// The device's policy follows the device's --kernels choice.
    func testDevicePolicyFollowsItsChoice() throws {
        XCTAssertEqual(device.kernelPolicy.choice, device.kernels)
        let forced = try Device(validation: true, kernels: .gpu)
        XCTAssertEqual(forced.kernelPolicy.kernelClass, .gpu)
        XCTAssertTrue(forced.kernelPolicy.summary.contains("kernels gpu (forced)"), forced.kernelPolicy.summary)
    }
}
