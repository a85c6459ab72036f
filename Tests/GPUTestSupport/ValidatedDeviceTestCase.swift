import XCTest
import VulkanCore

/// Base class for tests that run on the GPU: one device with the validation layers on per
/// test process, and any validation message during a test fails it.
open class ValidatedDeviceTestCase: XCTestCase {
    nonisolated(unsafe) private static var sharedDevice: Device?
    nonisolated(unsafe) private static var sharedError: Error?

    public var device: Device!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        if Self.sharedDevice == nil && Self.sharedError == nil {
            do { Self.sharedDevice = try Device(validation: true) } catch { Self.sharedError = error }
        }
        if let error = Self.sharedError { throw error }
        device = Self.sharedDevice
        _ = ValidationLog.drain()
    }

    open override func tearDownWithError() throws {
        let messages = ValidationLog.drain()
        XCTAssertTrue(messages.isEmpty, "Vulkan validation messages:\n" + messages.joined(separator: "\n"))
        try super.tearDownWithError()
    }
}
