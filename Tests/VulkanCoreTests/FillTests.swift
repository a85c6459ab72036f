import XCTest
@testable import VulkanCore

/// `Device.fill` writes a buffer piece by piece: straight into mapped memory, or through two
/// staging halves that alternate while the device copies (a discrete GPU's path, forced here).
final class FillTests: XCTestCase {
    func check(_ d: Device) throws {
        let size = 5_000_003
        let buffer = try d.allocate(bytes: size)
        // Uneven pieces, out of order, one empty: every byte written exactly once.
        let pieces = [0..<1_000_000, 3_000_000..<size, 1_000_000..<1_000_000, 1_000_000..<2_999_999, 2_999_999..<3_000_000]
        var produced = 0
        try d.fill(buffer.view, pieces: pieces) { range, out in
            XCTAssertEqual(out.count, range.count)
            for i in 0..<out.count { out[i] = UInt8(truncatingIfNeeded: (range.lowerBound + i) &* 2_654_435_761 >> 7) }
            produced += range.count
        }
        XCTAssertEqual(produced, size)
        let back = try d.download(buffer.view, as: UInt8.self, count: size)
        XCTAssertEqual(back, (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
        XCTAssertThrowsError(try d.fill(buffer.view, pieces: [0..<size + 1]) { _, _ in })
        XCTAssertTrue(ValidationLog.drain().isEmpty)
    }

    func testMappedDevice() throws {
        try check(try DeviceTests.validatedDevice())
    }

    func testStagingDevice() throws {
        setenv("FASTVLM_FORCE_STAGING", "1", 1)
        defer { unsetenv("FASTVLM_FORCE_STAGING") }
        let d = try Device(validation: true)
        XCTAssertFalse(d.deviceMemoryIsHostVisible)
        try check(d)
    }
}
