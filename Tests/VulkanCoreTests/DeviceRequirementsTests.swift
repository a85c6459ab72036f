import XCTest
@testable import VulkanCore

/// Device limits below what the kernels need are refused at open, naming limit and need.
final class DeviceRequirementsTests: XCTestCase {
    func testThisDeviceMeetsThem() throws {
        let caps = try DeviceTests.validatedDevice().capabilities
        XCTAssertTrue(DeviceRequirements.unmet(caps).isEmpty)
        XCTAssertNoThrow(try DeviceRequirements.check(caps))
    }

    func testEachShortLimitIsNamed() throws {
        let real = try DeviceTests.validatedDevice().capabilities
        let shrink: [(String, (inout DeviceCapabilities) -> Void)] = [
            ("maxComputeWorkGroupInvocations", { $0.maxComputeWorkGroupInvocations = 128 }),
            ("maxComputeWorkGroupSize.y", { $0.maxComputeWorkGroupSize = [1024, 8, 64] }),
            ("maxPerStageDescriptorStorageBuffers", { $0.maxPerStageDescriptorStorageBuffers = 4 }),
            ("maxComputeSharedMemorySize", { $0.maxComputeSharedMemorySize = 4096 }),
            ("maxStorageBufferRange", { $0.maxStorageBufferRange = 1 << 20 }),
            ("maxMemoryAllocationSize", { $0.maxMemoryAllocationSize = 64 << 20 }),
        ]
        for (limit, change) in shrink {
            var caps = real
            change(&caps)
            XCTAssertEqual(DeviceRequirements.unmet(caps).map(\.limit), [limit])
            XCTAssertThrowsError(try DeviceRequirements.check(caps), limit) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(limit) && text.contains("needed"), text)
            }
        }
    }
}
