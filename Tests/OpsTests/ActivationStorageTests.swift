import XCTest
import VulkanCore
@testable import Ops

/// fp16 activations need storageBuffer16BitAccess; a device without it gets an error naming it.
final class ActivationStorageTests: GPUTestCase {
    func testFP16NeedsSixteenBitStorage() throws {
        var caps = device.capabilities
        caps.storageBuffer16BitAccess = false
        XCTAssertNoThrow(try requireActivations(.f32, on: caps, "conv2d"))
        XCTAssertThrowsError(try requireActivations(.f16, on: caps, "conv2d")) { error in
            XCTAssertTrue("\(error)".contains("storageBuffer16BitAccess"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("conv2d:"), "\(error)")
        }
        caps.storageBuffer16BitAccess = true
        XCTAssertNoThrow(try requireActivations(.f16, on: caps, "conv2d"))
    }
}
