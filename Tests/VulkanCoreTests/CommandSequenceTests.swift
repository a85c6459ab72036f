import XCTest
@testable import VulkanCore

/// A pipeline-free check of the recorder: copies are tracked like dispatches.
final class CommandSequenceTests: XCTestCase {
    func device() throws -> Device { try DeviceTests.validatedDevice() }

    override func tearDownWithError() throws {
        let messages = ValidationLog.drain()
        XCTAssertTrue(messages.isEmpty, messages.joined(separator: "\n"))
    }

    func testBarriersOnlyBetweenDependentWork() throws {
        let d = try device()
        let a = try d.upload([Float](repeating: 1, count: 64))
        let b = try d.allocate(bytes: 256)
        let c = try d.allocate(bytes: 256)
        let e = try d.allocate(bytes: 256)
        let seq = CommandSequence(device: d, label: "barriers")
        try seq.copy(from: a.view, to: b.view)          // writes b
        try seq.copy(from: a.view, to: c.view)          // independent: no barrier
        XCTAssertEqual(seq.stats.barriers, 0)
        try seq.copy(from: b.view, to: e.view)          // reads b: barrier
        XCTAssertEqual(seq.stats.barriers, 1)
        try seq.copy(from: a.view.slice(offset: 0, size: 128), to: c.view.slice(offset: 128, size: 128))   // c's upper half: not read or written since the barrier
        XCTAssertEqual(seq.stats.barriers, 1)
        try seq.copy(from: e.view, to: a.view)          // reads e (written after the barrier) and overwrites a (read): barrier
        XCTAssertEqual(seq.stats.barriers, 2)
        try seq.run()
        XCTAssertEqual(try d.download(e.view, as: Float.self, count: 64), [Float](repeating: 1, count: 64))
    }

    func testSegmentsAreSeparateSubmitsAndReplayable() throws {
        let d = try device()
        let src = try d.upload((0..<64).map { Float($0) })
        let bufs = try (0..<5).map { _ in try d.allocate(bytes: 256) }
        let seq = CommandSequence(device: d, label: "segments", maxDispatchesPerSegment: 2)
        // A chain of copies: each reads what the previous one wrote, across segment boundaries.
        try seq.copy(from: src.view, to: bufs[0].view)
        for i in 1..<5 { try seq.copy(from: bufs[i - 1].view, to: bufs[i].view) }
        try seq.run()
        XCTAssertEqual(try d.download(bufs[4].view, as: Float.self, count: 64), (0..<64).map { Float($0) })
        // Replay after changing the source: the recorded work runs again.
        try d.write([Float](repeating: 7, count: 64).withUnsafeBytes { $0 }, to: src.view)
        try seq.run()
        XCTAssertEqual(try d.download(bufs[4].view, as: Float.self, count: 64), [Float](repeating: 7, count: 64))
        XCTAssertGreaterThanOrEqual(seq.stats.submits, 2)
    }

    func testStagingUploadPath() throws {
        setenv("FASTVLM_FORCE_STAGING", "1", 1)
        defer { unsetenv("FASTVLM_FORCE_STAGING") }
        let d = try Device(validation: true)
        XCTAssertFalse(d.deviceMemoryIsHostVisible)
        let values = (0..<100_000).map { Float($0) }
        let buf = try d.upload(values)
        XCTAssertNil(buf.hostPointer)
        XCTAssertEqual(try d.download(buf.view, as: Float.self, count: values.count), values)
        XCTAssertEqual(try d.download(buf.view.slice(offset: 400, size: 8), as: Float.self, count: 2), [100, 101])
    }

    /// With device memory that the host cannot map, host-visible buffers still map, a
    /// recorded copy reads and writes them, and freed ranges are reused.
    func testHostVisibleBuffersOnAStagingDevice() throws {
        setenv("FASTVLM_FORCE_STAGING", "1", 1)
        defer { unsetenv("FASTVLM_FORCE_STAGING") }
        let d = try Device(validation: true)
        let input = try d.allocateHostVisible(bytes: 256)
        let output = try d.allocateHostVisible(bytes: 256)
        let middle = try d.allocate(bytes: 256)
        XCTAssertNotNil(input.hostPointer)
        XCTAssertNil(middle.hostPointer)
        let inUse = d.bytesInUse
        let seq = CommandSequence(device: d, label: "host-visible")
        try seq.copy(from: input.view, to: middle.view)
        try seq.copy(from: middle.view, to: output.view)
        for step in 0..<3 {
            let values = (0..<64).map { Float($0 + step) }
            try values.withUnsafeBytes { try d.write($0, to: input.view) }
            try seq.run()
            XCTAssertEqual(try d.download(output.view, as: Float.self, count: 64), values)
        }
        XCTAssertEqual(d.bytesInUse, inUse, "host-visible buffers are not device-heap bytes")
        let freed = try { try d.allocateHostVisible(bytes: 512).offset }()   // released at once
        XCTAssertEqual(try d.allocateHostVisible(bytes: 512).offset, freed)
    }

    func testProfilerTraceIsValidJSON() throws {
        let timings = [DispatchTiming(label: "linear", kernel: "linear_tiled_f16", startNs: 0, durationNs: 2000, flops: 4e6, bytes: 1e6),
                       DispatchTiming(label: "linear", kernel: "linear_tiled_f16", startNs: 2000, durationNs: 1000, flops: 4e6, bytes: 1e6),
                       DispatchTiming(label: "rmsnorm", kernel: "rmsnorm", startNs: 3000, durationNs: 500, flops: 0, bytes: 1e5)]
        let summary = Profile.summarize(timings)
        XCTAssertEqual(summary.first?.label, "linear")
        XCTAssertEqual(summary.first?.count, 2)
        XCTAssertEqual(summary.first?.meanUs ?? 0, 1.5, accuracy: 1e-9)
        XCTAssertEqual(summary.first?.gflops ?? 0, 8e6 / 3000, accuracy: 1e-9)
        let data = Profile.chromeTrace(phases: [("vision", timings)])
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let events = object?["traceEvents"] as? [[String: Any]]
        XCTAssertEqual(events?.count, 4)   // one phase event + one per dispatch
    }
}
