import XCTest
@testable import VulkanCore

/// The verdict store that gates variants CI cannot run, with a fake variant and check.
final class VerifiedVariantsTests: XCTestCase {
    var dir: URL!
    var file: URL { dir.appending(path: "verified.json") }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appending(path: "fastvlm-verified-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testPassingCheckRunsOnceAndIsRemembered() {
        var runs = 0, reports: [String] = []
        let store = VerifiedVariants(url: file) { reports.append($0) }
        for _ in 0..<3 { XCTAssertTrue(store.verified("fake.fast") { runs += 1; return true }) }
        XCTAssertEqual(runs, 1)
        XCTAssertTrue(reports.isEmpty)
        // Another instance (the next process) reads the verdict instead of checking again.
        let again = VerifiedVariants(url: file) { reports.append($0) }
        XCTAssertEqual(again.verdict("fake.fast"), true)
        XCTAssertTrue(again.verified("fake.fast") { XCTFail("checked again"); return false })
    }

    func testFailingCheckFallsBackAndSaysSoOnce() {
        var reports: [String] = []
        let store = VerifiedVariants(url: file) { reports.append($0) }
        for _ in 0..<3 { XCTAssertFalse(store.verified("fake.broken") { false }) }
        XCTAssertEqual(reports.count, 1)
        XCTAssertTrue(reports[0].contains("fake.broken") && reports[0].contains("next variant"), reports[0])
        // Remembered as failed: not re-checked, and said once in the next process too.
        var later: [String] = []
        let again = VerifiedVariants(url: file) { later.append($0) }
        XCTAssertFalse(again.verified("fake.broken") { XCTFail("checked again"); return true })
        XCTAssertFalse(again.verified("fake.broken") { true })
        XCTAssertEqual(later.count, 1)
    }

    func testThrowingCheckIsAFailure() {
        struct Boom: Error {}
        var reports: [String] = []
        let store = VerifiedVariants(url: file) { reports.append($0) }
        XCTAssertFalse(store.verified("fake.throws") { throw Boom() })
        XCTAssertEqual(reports.count, 1)
        XCTAssertTrue(reports[0].contains("could not run"), reports[0])
    }

    func testCorruptOrForeignFileIsAnEmptyStore() throws {
        for bad in [Data([0xde, 0xad]), Data("{\"format\": 9, \"verdicts\": {\"fake.fast\": true}}".utf8), Data("[1,2]".utf8)] {
            try bad.write(to: file)
            var runs = 0
            let store = VerifiedVariants(url: file) { _ in }
            XCTAssertNil(store.verdict("fake.fast"))
            XCTAssertTrue(store.verified("fake.fast") { runs += 1; return true })
            XCTAssertEqual(runs, 1)
            // The bad file was replaced by a good one.
            XCTAssertEqual(VerifiedVariants(url: file) { _ in }.verdict("fake.fast"), true)
        }
    }

    func testUnwritableLocationKeepsVerdictsInMemory() {
        let store = VerifiedVariants(url: URL(fileURLWithPath: "/proc/fastvlm-none/verified.json")) { _ in }
        var runs = 0
        XCTAssertTrue(store.verified("fake.fast") { runs += 1; return true })
        XCTAssertTrue(store.verified("fake.fast") { runs += 1; return true })
        XCTAssertEqual(runs, 1)
    }

    /// The device's store lies beside the pipeline cache and is named for device and driver.
    func testDeviceStoreBesideThePipelineCache() throws {
        let caps = try DeviceTests.validatedDevice().capabilities
        setenv("FASTVLM_CACHE_DIR", dir.path, 1)
        defer { unsetenv("FASTVLM_CACHE_DIR") }
        let store = VerifiedVariants(for: caps)
        XCTAssertEqual(store.url?.deletingLastPathComponent().path, PipelineCacheFile.url(for: caps)?.deletingLastPathComponent().path)
        XCTAssertTrue(store.url?.lastPathComponent.contains(String(format: "%08x", caps.driverVersion)) ?? false)
    }
}
