import CVulkan

/// How a dispatch uses a buffer; decides where barriers go.
public struct Binding {
    public enum Access { case read, write, readWrite }
    public let view: BufferView
    public let access: Access

    public static func read(_ view: BufferView) -> Binding { Binding(view: view, access: .read) }
    public static func write(_ view: BufferView) -> Binding { Binding(view: view, access: .write) }
    public static func readWrite(_ view: BufferView) -> Binding { Binding(view: view, access: .readWrite) }
}

/// Counts that tell how a phase was recorded.
public struct SequenceStats: Sendable {
    public var dispatches = 0
    public var barriers = 0
    public var submits = 0
    public var copies = 0

    public init() {}

    /// Totals over several runs.
    public static func += (a: inout SequenceStats, b: SequenceStats) {
        a.dispatches += b.dispatches
        a.barriers += b.barriers
        a.submits += b.submits
        a.copies += b.copies
    }
}

/// Dispatches recorded once into command buffers and replayed with `run()`.
///
/// Barriers are inserted only where a dispatch touches a range that an earlier, not yet
/// synchronised dispatch wrote (or writes what one read). Work is split into segments of
/// bounded size, each its own submit, so no single submit runs for long on a real GPU.
public final class CommandSequence {
    public let device: Device
    public let label: String
    public let profiling: Bool
    public private(set) var stats = SequenceStats()
    /// Per-dispatch GPU times of the last `run()` when profiling.
    public private(set) var timings: [DispatchTiming] = []

    private let maxDispatchesPerSegment: Int
    private let maxFlopsPerSegment: Double
    private var segments: [Segment] = []
    private var descriptors: DescriptorArena
    private var retained: [ObjectIdentifier: DeviceBuffer] = [:]
    private var pendingWrites: [TrackedRange] = []
    private var pendingReads: [TrackedRange] = []
    private var finished = false

    public init(device: Device, label: String, profiling: Bool = false, maxDispatchesPerSegment: Int = 512, maxFlopsPerSegment: Double = 50e9) {
        self.device = device
        self.label = label
        self.profiling = profiling && device.capabilities.timestampValidBits > 0
        self.maxDispatchesPerSegment = maxDispatchesPerSegment
        self.maxFlopsPerSegment = maxFlopsPerSegment
        descriptors = DescriptorArena(device: device)
    }

    deinit {
        for s in segments {
            device.freeCommandBuffer(s.commandBuffer)
            if let pool = s.queryPool { device.fn.destroyQueryPool(device.handle, pool, nil) }
        }
        descriptors.close()
    }

    // MARK: recording

    /// Records one dispatch. `flops`/`bytes` feed the profiler's GFLOP/s and GB/s.
    public func dispatch(_ pipeline: ComputePipeline, _ bindings: [Binding], push: [UInt32] = [], groups: (Int, Int, Int),
                         label: String? = nil, flops: Double = 0, bytes: Double = 0) throws {
        guard !finished else { throw VulkanError.invalidArgument("dispatch recorded after finish() in \(self.label)") }
        guard bindings.count == pipeline.bindingCount else {
            throw VulkanError.invalidArgument("\(pipeline.name): \(bindings.count) bindings for \(pipeline.bindingCount) slots")
        }
        guard push.count * 4 == pipeline.pushConstantSize else {
            throw VulkanError.invalidArgument("\(pipeline.name): \(push.count * 4) bytes of push constants for \(pipeline.pushConstantSize)")
        }
        let caps = device.capabilities
        for b in bindings where b.view.size > caps.maxStorageBufferRange {
            throw VulkanError.invalidArgument("\(pipeline.name): a \(b.view.size)-byte binding exceeds maxStorageBufferRange (\(caps.maxStorageBufferRange)); split it")
        }
        let limits = caps.maxComputeWorkGroupCount
        guard groups.0 <= limits[0], groups.1 <= limits[1], groups.2 <= limits[2] else {
            throw VulkanError.invalidArgument("\(pipeline.name): \(groups) workgroups exceed the device limit \(limits)")
        }
        if groups.0 == 0 || groups.1 == 0 || groups.2 == 0 { return }

        let segment = try currentSegment(flops: flops)
        let cb = segment.commandBuffer
        syncIfNeeded(bindings, cb)
        let set = try descriptors.set(for: pipeline, bindings: bindings)
        device.fn.cmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.handle)
        var s: VkDescriptorSet? = set
        device.fn.cmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, 1, &s, 0, nil)
        if !push.isEmpty {
            push.withUnsafeBytes { device.fn.cmdPushConstants(cb, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0, UInt32($0.count), $0.baseAddress) }
        }
        let query = segment.records.count * 2
        if let pool = segment.queryPool { device.fn.cmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, UInt32(query)) }
        device.fn.cmdDispatch(cb, UInt32(groups.0), UInt32(groups.1), UInt32(groups.2))
        if let pool = segment.queryPool { device.fn.cmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, UInt32(query + 1)) }
        segment.records.append(DispatchRecord(label: label ?? pipeline.name, kernel: pipeline.name, flops: flops, bytes: bytes))
        segment.flops += flops
        for b in bindings { retained[ObjectIdentifier(b.view.buffer)] = b.view.buffer }
        stats.dispatches += 1
    }

    /// Records a buffer-to-buffer copy (tracked like a dispatch that reads `from` and writes `to`).
    public func copy(from: BufferView, to: BufferView, bytes: Int? = nil) throws {
        let n = bytes ?? from.size
        guard n <= from.size, n <= to.size else { throw VulkanError.invalidArgument("copy of \(n) bytes between \(from.size)- and \(to.size)-byte views") }
        let segment = try currentSegment(flops: 0)
        syncIfNeeded([.read(from), .write(to)], segment.commandBuffer)
        var region = VkBufferCopy(srcOffset: VkDeviceSize(from.absoluteOffset), dstOffset: VkDeviceSize(to.absoluteOffset), size: VkDeviceSize(n))
        device.fn.cmdCopyBuffer(segment.commandBuffer, from.vkBuffer, to.vkBuffer, 1, &region)
        retained[ObjectIdentifier(from.buffer)] = from.buffer
        retained[ObjectIdentifier(to.buffer)] = to.buffer
        stats.copies += 1
    }

    /// FLOPs of everything recorded (as the ops declared them).
    public var recordedFlops: Double { segments.reduce(0) { $0 + $1.flops } }

    /// What one `run()` costs: the recorded dispatches, barriers and copies, and one submit per segment.
    public var perRunStats: SequenceStats {
        var s = stats
        s.submits = segments.count
        return s
    }

    /// Ends recording. Called by `run()` when needed.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        for s in segments {
            // Make results visible to the host (readback after the fence) and to later submits.
            barrier(s.commandBuffer, dstStage: VK_PIPELINE_STAGE_HOST_BIT.rawValue | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue,
                    dstAccess: VK_ACCESS_HOST_READ_BIT.rawValue | VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue)
            try check(device.fn.endCommandBuffer(s.commandBuffer), "vkEndCommandBuffer (\(label))")
        }
    }

    /// Submits every segment (one submit each) and waits. Can be called again to replay.
    public func run() throws {
        try finish()
        try device.submitAndWait(segments.map(\.commandBuffer), what: label)
        stats.submits += segments.count
        if profiling { try collectTimings() }
    }

    // MARK: internals

    private func currentSegment(flops: Double) throws -> Segment {
        if let last = segments.last, last.records.count < maxDispatchesPerSegment, last.flops + flops <= maxFlopsPerSegment || last.records.isEmpty {
            return last
        }
        let cb = try device.allocateCommandBuffer()
        var begin = VkCommandBufferBeginInfo()
        begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        try check(device.fn.beginCommandBuffer(cb, &begin), "vkBeginCommandBuffer (\(label))")
        var pool: VkQueryPool?
        if profiling {
            var info = VkQueryPoolCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO
            info.queryType = VK_QUERY_TYPE_TIMESTAMP
            info.queryCount = UInt32(maxDispatchesPerSegment * 2)
            try check(device.fn.createQueryPool(device.handle, &info, nil, &pool), "vkCreateQueryPool")
            if let pool { device.fn.cmdResetQueryPool(cb, pool, 0, info.queryCount) }
        }
        let segment = Segment(commandBuffer: cb, queryPool: pool)
        if !segments.isEmpty {
            // Earlier segments are earlier submits: order their writes before this one's work.
            barrier(cb, dstStage: VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue,
                    dstAccess: VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue)
        }
        pendingWrites.removeAll()
        pendingReads.removeAll()
        segments.append(segment)
        return segment
    }

    private func syncIfNeeded(_ bindings: [Binding], _ cb: VkCommandBuffer) {
        let ranges = bindings.map { (TrackedRange($0.view), $0.access) }
        let hazard = ranges.contains { range, access in
            pendingWrites.contains { $0.overlaps(range) } || (access != .read && pendingReads.contains { $0.overlaps(range) })
        }
        if hazard {
            barrier(cb, dstStage: VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue,
                    dstAccess: VK_ACCESS_SHADER_READ_BIT.rawValue | VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_READ_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue)
            pendingWrites.removeAll()
            pendingReads.removeAll()
        }
        for (range, access) in ranges {
            if access == .read { pendingReads.append(range) } else { pendingWrites.append(range) }
            if access == .readWrite { pendingReads.append(range) }
        }
    }

    private func barrier(_ cb: VkCommandBuffer, dstStage: UInt32, dstAccess: UInt32) {
        var mb = VkMemoryBarrier()
        mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue | VK_ACCESS_TRANSFER_WRITE_BIT.rawValue
        mb.dstAccessMask = dstAccess
        device.fn.cmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue | VK_PIPELINE_STAGE_TRANSFER_BIT.rawValue, dstStage, 0, 1, &mb, 0, nil, 0, nil)
        stats.barriers += 1
    }

    private func collectTimings() throws {
        var out: [DispatchTiming] = []
        let period = device.capabilities.timestampPeriodNs
        let validBits = device.capabilities.timestampValidBits
        let mask: UInt64 = validBits >= 64 ? .max : (UInt64(1) << UInt64(validBits)) - 1
        var origin: UInt64?
        for s in segments {
            guard let pool = s.queryPool, !s.records.isEmpty else { continue }
            let queryCount = s.records.count * 2
            var values = [UInt64](repeating: 0, count: queryCount)
            try values.withUnsafeMutableBytes { raw in
                try check(device.fn.getQueryPoolResults(device.handle, pool, 0, UInt32(queryCount), raw.count, raw.baseAddress, 8,
                                                          VK_QUERY_RESULT_64_BIT.rawValue | VK_QUERY_RESULT_WAIT_BIT.rawValue), "vkGetQueryPoolResults")
            }
            for (i, r) in s.records.enumerated() {
                let start = values[2 * i] & mask
                let end = values[2 * i + 1] & mask
                if origin == nil { origin = start }
                let base = origin ?? start
                out.append(DispatchTiming(label: r.label, kernel: r.kernel,
                                          startNs: Double(start &- base) * period,
                                          durationNs: Double(end &- start) * period,
                                          flops: r.flops, bytes: r.bytes))
            }
        }
        timings = out
    }
}

struct DispatchRecord {
    let label: String
    let kernel: String
    let flops: Double
    let bytes: Double
}

final class Segment {
    let commandBuffer: VkCommandBuffer
    let queryPool: VkQueryPool?
    var records: [DispatchRecord] = []
    var flops: Double = 0
    init(commandBuffer: VkCommandBuffer, queryPool: VkQueryPool?) {
        self.commandBuffer = commandBuffer
        self.queryPool = queryPool
    }
}

struct TrackedRange {
    let block: ObjectIdentifier
    let lo: Int
    let hi: Int
    init(_ view: BufferView) {
        block = view.blockID
        lo = view.absoluteOffset
        hi = view.absoluteOffset + view.size
    }
    func overlaps(_ o: TrackedRange) -> Bool { block == o.block && lo < o.hi && o.lo < hi }
}
