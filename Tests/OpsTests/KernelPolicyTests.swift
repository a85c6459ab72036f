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
        XCTAssertFalse(p.foldsNorms)
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
            XCTAssertTrue(p.foldsNorms)
            XCTAssertEqual(p.decoderActivations, .f16)
            XCTAssertEqual(p.kvCache, .f16)
        }
        let noHalf = KernelPolicy(capabilities: caps(type: "discrete", fp16: false))
        XCTAssertEqual(noHalf.decoderActivations, .f32, "no shaderFloat16 / 16-bit storage: fp32 storage")
        XCTAssertEqual(noHalf.kvCache, .f32)
    }

    /// A GPU with tensor cores: coopmat for M >= 32 once its check passed here, else the tiled GEMM.
    func testCoopmatOnlyAfterItsCheckAndForEnoughRows() {
        var c = caps(type: "discrete")
        c.cooperativeMatrixShapes.nv = [CooperativeMatrixShape(m: 16, n: 8, k: 16)]
        c.subgroupSize = 32
        c.minSubgroupSize = 32
        c.maxSubgroupSize = 32
        c.maxComputeSharedMemorySize = 48 << 10
        let passed = KernelPolicy(capabilities: c, verified: { $0 == "linear.coopmat" })
        XCTAssertEqual(passed.linear(m: 256, k: 896), .coopmat)
        XCTAssertEqual(passed.linear(m: 16, k: 896), .tiled, "below 32 rows a tensor-core tile is mostly padding")
        XCTAssertEqual(passed.linear(m: 256, k: 18), .tiled, "coopmat needs K % 4 == 0")
        XCTAssertEqual(KernelPolicy(capabilities: c, verified: { _ in false }).linear(m: 256, k: 896), .tiled, "check failed")
        XCTAssertEqual(KernelPolicy(capabilities: c).linear(m: 256, k: 896), .tiled, "no check run")
        XCTAssertEqual(KernelPolicy(capabilities: c, choice: .cpu, verified: { _ in true }).linear(m: 256, k: 896), .subgroup)
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

/// The whole verified-variant path on this device, with the subgroup GEMM standing in for a
/// variant CI cannot run: checked by the selftest's linear cases, remembered, and a failed
/// verdict makes the policy fall back to the next variant and say so once.
final class VerifiedVariantPolicyTests: GPUTestCase {
    func device(store: URL, reports: @escaping (String) -> Void) throws -> Device {
        let instance = try VulkanInstance(validation: true)
        let physical = try instance.physicalDevices()[device.physical.index]
        return try Device(instance: instance, physical: physical, kernels: .cpu, verifiedVariants: VerifiedVariants(url: store, report: reports))
    }

    func testCheckedVariantIsUsedAfterItsCheckPassed() throws {
        try XCTSkipUnless(LinearOp.supports(.subgroup, caps: device.capabilities, m: 64, k: 64), "no subgroup GEMM on this device")
        let store = FileManager.default.temporaryDirectory.appending(path: "fastvlm-policy-\(getpid())-pass.json")
        defer { try? FileManager.default.removeItem(at: store) }
        var reports: [String] = []
        let d = try device(store: store) { reports.append($0) }
        XCTAssertEqual(KernelPolicy(device: d, checked: ["linear.subgroup"]).linear(m: 64, k: 64), .subgroup)
        XCTAssertEqual(d.verifiedVariants.verdict("linear.subgroup"), true)
        XCTAssertTrue(reports.isEmpty, reports.joined())
    }

    func testFailedVerdictFallsBackToTheNextVariant() throws {
        let store = FileManager.default.temporaryDirectory.appending(path: "fastvlm-policy-\(getpid())-fail.json")
        defer { try? FileManager.default.removeItem(at: store) }
        try Data("{\"format\": 1, \"verdicts\": {\"linear.subgroup\": false}}".utf8).write(to: store)
        var reports: [String] = []
        let d = try device(store: store) { reports.append($0) }
        let policy = KernelPolicy(device: d, checked: ["linear.subgroup"])
        XCTAssertEqual(policy.linear(m: 64, k: 64), .tiled)
        XCTAssertEqual(policy.linear(m: 37, k: 100), .tiled)
        XCTAssertEqual(policy.linear(m: 1, k: 64), .gemv, "other variants are unaffected")
        XCTAssertEqual(reports.count, 1, reports.joined(separator: "\n"))
        XCTAssertTrue(reports.first?.contains("linear.subgroup") ?? false)
    }
}
