import XCTest
@testable import VulkanCore

final class DeviceTests: XCTestCase {
    nonisolated(unsafe) private static var shared: Device?

    /// One device with validation on for every test of this target.
    static func validatedDevice() throws -> Device {
        if let d = shared { return d }
        let d = try Device(validation: true)
        shared = d
        return d
    }

    func device() throws -> Device { try Self.validatedDevice() }

    func testCapabilitiesAreRead() throws {
        let caps = try device().capabilities
        XCTAssertFalse(caps.name.isEmpty)
        XCTAssertGreaterThan(caps.subgroupSize, 0)
        XCTAssertGreaterThan(caps.maxStorageBufferRange, 0)
        XCTAssertGreaterThanOrEqual(caps.maxPushConstantsSize, 128)
        XCTAssertFalse(caps.memoryTypes.isEmpty)
        XCTAssertTrue(caps.subgroupOperations.contains("basic"))
    }

    /// The messenger must deliver validation errors, or every "no messages" check is vacuous.
    func testValidationMessagesAreCaptured() throws {
        let d = try device()
        _ = ValidationLog.drain()
        d.provokeValidationMessage()
        let messages = ValidationLog.drain()
        XCTAssertFalse(messages.isEmpty, "the validation layer reported nothing for a zero-sized buffer")
    }

    func testDeviceIndexOutOfRangeIsAClearError() throws {
        XCTAssertThrowsError(try Device(index: 999, validation: false)) { error in
            XCTAssertTrue("\(error)".contains("device 999 does not exist"), "\(error)")
        }
    }

    func testUploadDownloadRoundTripAndSuballocation() throws {
        let d = try device()
        let values = (0..<1000).map { Float($0) * 0.5 }
        let a = try d.upload(values)
        let b = try d.upload([Float](repeating: 1, count: 17))
        XCTAssertEqual(try d.download(a.view, as: Float.self, count: 1000), values)
        XCTAssertEqual(a.offset % d.capabilities.minStorageBufferOffsetAlignment, 0)
        XCTAssertEqual(b.offset % d.capabilities.minStorageBufferOffsetAlignment, 0)
        XCTAssertEqual(try d.download(b.view.slice(offset: 4, size: 8), as: Float.self, count: 2), [1, 1])
        XCTAssertTrue(ValidationLog.drain().isEmpty)
    }

    func testFreedMemoryIsReused() throws {
        let d = try device()
        let before = d.bytesInUse
        var first: DeviceBuffer? = try d.allocate(bytes: 1 << 20)
        let (block, offset) = (ObjectIdentifier(first!.block), first!.offset)
        first = nil
        XCTAssertEqual(d.bytesInUse, before)
        // The allocator is back in its earlier state, so the same request lands in the same place.
        let second = try d.allocate(bytes: 1 << 20)
        XCTAssertEqual(ObjectIdentifier(second.block), block, "a new block instead of the freed range")
        XCTAssertEqual(second.offset, offset, "the freed range was not handed out again")
    }

    func testOversizedAllocationIsOutOfMemoryNotACrash() throws {
        let d = try device()
        XCTAssertThrowsError(try d.allocate(bytes: Int.max / 4)) { error in
            XCTAssertTrue("\(error)".contains("out of device memory"), "\(error)")
        }
    }

    func testCorruptPipelineCacheFileIsIgnored() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "fastvlm-cache-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let caps = try device().capabilities
        setenv("FASTVLM_CACHE_DIR", dir.path, 1)
        defer { unsetenv("FASTVLM_CACHE_DIR") }
        guard let url = PipelineCacheFile.url(for: caps) else { return XCTFail("no cache path") }
        try Data(repeating: 0xAB, count: 100).write(to: url)
        XCTAssertNil(PipelineCacheFile.load(url, for: caps))
        // A header for another device is foreign.
        var foreign = [UInt8](repeating: 0, count: 64)
        foreign[0] = 32; foreign[4] = 1; foreign[8] = 0x12
        try Data(foreign).write(to: url)
        XCTAssertNil(PipelineCacheFile.load(url, for: caps))
        // Creating a device with the bad file present works.
        _ = try Device(validation: false)
    }
}
