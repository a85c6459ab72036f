import CVulkan
import XCTest
@testable import VulkanCore

/// Synchronization validation must be on beside core validation, or "no messages" says nothing
/// about missing barriers.
final class SynchronizationValidationTests: XCTestCase {
    func device() throws -> Device { try DeviceTests.validatedDevice() }

    func testMissingBarrierIsReported() throws {
        let d = try device()
        let target = try d.allocate(bytes: 256)
        _ = ValidationLog.drain()
        // Two writes of the same range with no barrier between them: a write-after-write hazard.
        try d.oneShot("unsynchronised fills") { cb in
            for value: UInt32 in [1, 2] {
                d.fn.cmdFillBuffer(cb, target.view.vkBuffer, VkDeviceSize(target.view.absoluteOffset), 256, value)
            }
        }
        let messages = ValidationLog.drain()
        XCTAssertTrue(messages.contains { $0.contains("SYNC-HAZARD-WRITE-AFTER-WRITE") },
                      "synchronization validation reported nothing for two unsynchronised writes: \(messages)")
    }

    func testSequenceBarriersSatisfySynchronizationValidation() throws {
        let d = try device()
        let a = try d.upload([Float](repeating: 1, count: 64))
        let b = try d.allocate(bytes: 256)
        _ = ValidationLog.drain()
        let seq = CommandSequence(device: d, label: "chain")
        // Read-after-write, write-after-read and write-after-write, then the whole replayed.
        for _ in 0..<3 {
            try seq.copy(from: a.view, to: b.view)
            try seq.copy(from: b.view, to: a.view)
        }
        try seq.run()
        try seq.run()
        XCTAssertEqual(ValidationLog.drain(), [])
    }
}
