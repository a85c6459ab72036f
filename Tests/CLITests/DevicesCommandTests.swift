import XCTest

final class DevicesCommandTests: XCTestCase {
    func testListsDevicesWithLimits() throws {
        let r = try runCLI(["devices"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("max storage binding"), r.stdout)
        XCTAssertTrue(r.stdout.contains("subgroup size"), r.stdout)
    }

    func testJSONIsAnArrayOfDevices() throws {
        let r = try runCLI(["devices", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let array = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        XCTAssertFalse(array?.isEmpty ?? true)
        XCTAssertNotNil(array?.first?["maxStorageBufferRange"])
        XCTAssertNotNil(array?.first?["name"])
        XCTAssertNotNil(array?.first?["type"])
    }

    func testNoVulkanDriverIsAClearError() throws {
        let r = try runCLI(["devices"], environment: ["VK_ICD_FILENAMES": "/nonexistent/icd.json", "VK_DRIVER_FILES": "/nonexistent/icd.json"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no Vulkan device"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }

    func testUnknownFlagIsRejected() throws {
        let r = try runCLI(["devices", "--bogus"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--bogus"), r.stderr)
    }
}
