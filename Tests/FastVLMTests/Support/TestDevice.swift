import XCTest
import VulkanCore

/// One validated Vulkan device for the model tests; `ValidationLog` collects any message.
enum TestDevice {
    nonisolated(unsafe) private static var device: Device?

    static func shared() throws -> Device {
        if let device { return device }
        let d = try Device(validation: true)
        device = d
        return d
    }

    /// Fails the test if the validation layers said anything since the last call.
    static func assertNoValidationMessages(file: StaticString = #filePath, line: UInt = #line) {
        let messages = ValidationLog.drain()
        XCTAssertTrue(messages.isEmpty, "Vulkan validation messages:\n" + messages.joined(separator: "\n"), file: file, line: line)
    }
}
