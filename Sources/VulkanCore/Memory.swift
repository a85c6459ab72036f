import CVulkan
import Foundation

/// One VkDeviceMemory with one VkBuffer spanning it; sub-ranges are handed out first-fit.
final class MemoryBlock {
    unowned(unsafe) let device: Device  // the Device owns this and outlives it; checked unowned would trap during Device.deinit
    let memory: VkDeviceMemory
    let buffer: VkBuffer
    let size: Int
    let mapped: UnsafeMutableRawPointer?
    let hostVisible: Bool
    private var ranges: RangeAllocator

    init(device: Device, size: Int, memoryType: UInt32, hostVisible: Bool) throws {
        self.device = device
        self.size = size
        self.hostVisible = hostVisible
        let fn = device.fn
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(size)
        info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_SRC_BIT.rawValue | VK_BUFFER_USAGE_TRANSFER_DST_BIT.rawValue
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var buf: VkBuffer?
        try check(fn.createBuffer(device.handle, &info, nil, &buf), "vkCreateBuffer (\(size) bytes)")
        guard let buf else { throw VulkanError.call("vkCreateBuffer", VK_ERROR_INITIALIZATION_FAILED) }
        var req = VkMemoryRequirements()
        fn.getBufferMemoryRequirements(device.handle, buf, &req)
        var alloc = VkMemoryAllocateInfo()
        alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        alloc.allocationSize = req.size
        // The preferred type must be one this buffer accepts (drivers commonly accept all for
        // storage buffers, but the spec does not promise it); else the first acceptable one
        // with the same host visibility.
        let types = device.capabilities.memoryTypes
        let allowed = { (i: Int) in req.memoryTypeBits & (1 << UInt32(i)) != 0 }
        let fits = { (i: Int) in !hostVisible || (types[i].flags.contains("host_visible") && types[i].flags.contains("host_coherent")) }
        guard let chosen = allowed(Int(memoryType)) ? Int(memoryType)
                : types.indices.first(where: { allowed($0) && fits($0) && (hostVisible || types[$0].flags.contains("device_local")) })
                ?? types.indices.first(where: { allowed($0) && fits($0) }) else {
            fn.destroyBuffer(device.handle, buf, nil)
            throw VulkanError.missingFeature("a \(hostVisible ? "host-visible" : "device") memory type that storage buffers accept (allowed types: 0x\(String(req.memoryTypeBits, radix: 16)))")
        }
        alloc.memoryTypeIndex = UInt32(chosen)
        var mem: VkDeviceMemory?
        let r = fn.allocateMemory(device.handle, &alloc, nil, &mem)
        guard r == VK_SUCCESS, let mem else {
            fn.destroyBuffer(device.handle, buf, nil)
            if r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY {
                throw VulkanError.outOfDeviceMemory(requested: size, detail: "vkAllocateMemory returned \(resultName(r))")
            }
            throw VulkanError.call("vkAllocateMemory (\(size) bytes)", r)
        }
        try check(fn.bindBufferMemory(device.handle, buf, mem, 0), "vkBindBufferMemory")
        var ptr: UnsafeMutableRawPointer?
        if hostVisible {
            try check(fn.mapMemory(device.handle, mem, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &ptr), "vkMapMemory")
        }
        memory = mem
        buffer = buf
        mapped = ptr
        ranges = RangeAllocator(size: size)
    }

    func close() {
        device.fn.destroyBuffer(device.handle, buffer, nil)
        device.fn.freeMemory(device.handle, memory, nil)
    }

    func take(_ bytes: Int, alignment: Int) -> Int? { ranges.take(bytes, alignment: alignment) }
    func give(offset: Int, size bytes: Int) { ranges.give(offset: offset, size: bytes) }
    var isEmpty: Bool { ranges.isEmpty }
}

/// A device allocation. Memory returns to its block when the last reference goes.
public final class DeviceBuffer {
    let block: MemoryBlock
    public let offset: Int
    public let size: Int
    let allocator: MemoryAllocator

    init(block: MemoryBlock, offset: Int, size: Int, allocator: MemoryAllocator) {
        self.block = block
        self.offset = offset
        self.size = size
        self.allocator = allocator
    }

    deinit { allocator.release(self) }

    /// The whole allocation as a bindable view.
    public var view: BufferView { BufferView(buffer: self, offset: 0, size: size) }

    /// A host pointer when the memory is host-visible (lavapipe, UMA, resizable BAR).
    public var hostPointer: UnsafeMutableRawPointer? { block.mapped.map { $0 + offset } }
}

/// A byte range of a DeviceBuffer: what a shader binding sees.
public struct BufferView {
    public let buffer: DeviceBuffer
    public let offset: Int   // relative to the DeviceBuffer
    public let size: Int

    public init(buffer: DeviceBuffer, offset: Int, size: Int) {
        self.buffer = buffer
        self.offset = offset
        self.size = size
    }

    /// A sub-range (offset relative to this view).
    public func slice(offset: Int, size: Int) -> BufferView {
        BufferView(buffer: buffer, offset: self.offset + offset, size: size)
    }

    var vkBuffer: VkBuffer { buffer.block.buffer }
    var absoluteOffset: Int { buffer.offset + offset }
    var blockID: ObjectIdentifier { ObjectIdentifier(buffer.block) }
}

/// Suballocates device buffers from a few large blocks; staging for non-host-visible memory.
final class MemoryAllocator {
    unowned(unsafe) let device: Device  // the Device owns this and outlives it; checked unowned would trap during Device.deinit
    let deviceType: UInt32
    let deviceTypeHostVisible: Bool
    let stagingType: UInt32
    let heapSize: Int
    let alignment: Int
    let blockSize: Int
    private var blocks: [MemoryBlock] = []
    /// Host-visible blocks for small buffers both sides touch every step (device memory is
    /// not host-visible here); not counted in bytesInUse, which tracks the device heap.
    private var hostBlocks: [MemoryBlock] = []
    private(set) var bytesInUse = 0
    private(set) var peakBytesInUse = 0
    private var staging: MemoryBlock?

    init(device: Device) throws {
        self.device = device
        let caps = device.capabilities
        let types = caps.memoryTypes
        // Device memory: a device-local type on the largest device-local heap.
        let localHeaps = caps.memoryHeaps.enumerated().filter { $0.element.deviceLocal }
        let bigHeap = localHeaps.max { $0.element.size < $1.element.size }?.offset ?? 0
        let localIndex = types.indices.first { types[$0].flags.contains("device_local") && types[$0].heap == bigHeap }
            ?? types.indices.first { types[$0].flags.contains("device_local") }
            ?? types.indices.first
        guard let localIndex else { throw VulkanError.noDevice("the device reports no memory types") }
        deviceType = UInt32(localIndex)
        // FASTVLM_FORCE_STAGING=1 exercises the discrete-GPU upload path on host-visible devices.
        let forceStaging = ProcessInfo.processInfo.environment["FASTVLM_FORCE_STAGING"] == "1"
        deviceTypeHostVisible = !forceStaging && types[localIndex].flags.contains("host_visible") && types[localIndex].flags.contains("host_coherent")
        let hostIndices = types.indices.filter { types[$0].flags.contains("host_visible") && types[$0].flags.contains("host_coherent") }
        guard let hostIndex = hostIndices.first(where: { types[$0].flags.contains("host_cached") }) ?? hostIndices.first else {
            throw VulkanError.missingFeature("host-visible coherent memory for uploads")
        }
        stagingType = UInt32(hostIndex)
        heapSize = Int(clamping: caps.memoryHeaps[types[localIndex].heap].size)
        alignment = max(64, caps.minStorageBufferOffsetAlignment)
        blockSize = min(256 << 20, max(16 << 20, heapSize / 8))
    }

    func close() {
        blocks.forEach { $0.close() }
        blocks.removeAll()
        hostBlocks.forEach { $0.close() }
        hostBlocks.removeAll()
        staging?.close()
        staging = nil
    }

    func allocate(_ bytes: Int) throws -> DeviceBuffer {
        let size = max(bytes, 4)
        // Refuse what the heap cannot hold: lavapipe would accept it and real GPUs fail later.
        guard bytesInUse + size <= heapSize else {
            throw VulkanError.outOfDeviceMemory(requested: size, detail: "\(bytesInUse >> 20) MiB already in use of a \(heapSize >> 20) MiB heap")
        }
        for block in blocks where size <= block.size {
            if let offset = block.take(size, alignment: alignment) { return record(block, offset, size) }
        }
        let block = try MemoryBlock(device: device, size: max(size, blockSize), memoryType: deviceType, hostVisible: deviceTypeHostVisible)
        blocks.append(block)
        guard let offset = block.take(size, alignment: alignment) else {
            throw VulkanError.outOfDeviceMemory(requested: size, detail: "a fresh block could not hold it")
        }
        return record(block, offset, size)
    }

    private func record(_ block: MemoryBlock, _ offset: Int, _ size: Int) -> DeviceBuffer {
        bytesInUse += size
        peakBytesInUse = max(peakBytesInUse, bytesInUse)
        return DeviceBuffer(block: block, offset: offset, size: size, allocator: self)
    }

    /// Memory the device can bind and the host can map: device memory itself when it is
    /// host-visible, else the host-coherent type (the device reads it across the bus).
    func allocateHostVisible(_ bytes: Int) throws -> DeviceBuffer {
        if deviceTypeHostVisible { return try allocate(bytes) }
        let size = max(bytes, 4)
        for block in hostBlocks where size <= block.size {
            if let offset = block.take(size, alignment: alignment) { return DeviceBuffer(block: block, offset: offset, size: size, allocator: self) }
        }
        let block = try MemoryBlock(device: device, size: max(size, 1 << 20), memoryType: stagingType, hostVisible: true)
        hostBlocks.append(block)
        guard let offset = block.take(size, alignment: alignment) else {
            throw VulkanError.outOfDeviceMemory(requested: size, detail: "a fresh host-visible block could not hold it")
        }
        return DeviceBuffer(block: block, offset: offset, size: size, allocator: self)
    }

    func release(_ buffer: DeviceBuffer) {
        if hostBlocks.contains(where: { $0 === buffer.block }) {
            buffer.block.give(offset: buffer.offset, size: buffer.size)
            return
        }
        bytesInUse -= buffer.size
        buffer.block.give(offset: buffer.offset, size: buffer.size)
        // Give dedicated (oversized) blocks back to the driver at once.
        if buffer.block.size > blockSize, buffer.block.isEmpty, let i = blocks.firstIndex(where: { $0 === buffer.block }) {
            blocks.remove(at: i).close()
        }
    }

    /// A host-visible buffer for copies, grown on demand.
    func stagingBlock(_ bytes: Int) throws -> MemoryBlock {
        if let staging, staging.size >= bytes { return staging }
        staging?.close()
        staging = nil
        let block = try MemoryBlock(device: device, size: max(bytes, 16 << 20), memoryType: stagingType, hostVisible: true)
        staging = block
        return block
    }
}

extension Device {
    /// Allocates device memory (uninitialised).
    public func allocate(bytes: Int) throws -> DeviceBuffer { try memory.allocate(bytes) }

    /// Allocates a small buffer that shaders can bind and the host maps (`hostPointer` is
    /// never nil), so `write` and `read` are plain copies with no submit: the per-step
    /// inputs and the sampled id of a decode loop. Device memory where that is host-visible,
    /// else host memory the device reads across the bus: keep such buffers small.
    public func allocateHostVisible(bytes: Int) throws -> DeviceBuffer { try memory.allocateHostVisible(bytes) }

    public var bytesInUse: Int { memory.bytesInUse }
    /// The device-local heap the model's buffers come from (what a memory plan must fit).
    public var heapBytes: Int { memory.heapSize }
    public var peakBytesInUse: Int { memory.peakBytesInUse }
    public var deviceMemoryIsHostVisible: Bool { memory.deviceTypeHostVisible }

    /// Copies host bytes into a view: directly when mapped, else through staging in chunks.
    public func write(_ bytes: UnsafeRawBufferPointer, to view: BufferView) throws {
        guard bytes.count <= view.size else {
            throw VulkanError.invalidArgument("write of \(bytes.count) bytes into a \(view.size)-byte buffer")
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if let ptr = view.buffer.hostPointer {
            (ptr + view.offset).copyMemory(from: base, byteCount: bytes.count)
            return
        }
        let chunk = 64 << 20
        var done = 0
        while done < bytes.count {
            let n = min(chunk, bytes.count - done)
            let staging = try memory.stagingBlock(min(chunk, bytes.count))
            guard let mapped = staging.mapped else { throw VulkanError.missingFeature("mapped staging memory") }
            mapped.copyMemory(from: base + done, byteCount: n)
            try oneShot("upload") { cb in
                var region = VkBufferCopy(srcOffset: 0, dstOffset: VkDeviceSize(view.absoluteOffset + done), size: VkDeviceSize(n))
                fn.cmdCopyBuffer(cb, staging.buffer, view.vkBuffer, 1, &region)
            }
            done += n
        }
    }

    /// Fills a view piece by piece: `produce(range, bytes)` writes bytes `range` of the view into
    /// `bytes`. Directly into the mapped memory when the device memory is host-visible, else
    /// into one of two staging halves: the host fills one while the device copies the other, so
    /// converting weights overlaps uploading them, and the host never holds more than two pieces
    /// (weights go up from a memory-mapped checkpoint without a host copy of the model).
    public func fill(_ view: BufferView, pieces: [Range<Int>], _ produce: (Range<Int>, UnsafeMutableRawBufferPointer) throws -> Void) throws {
        for piece in pieces where piece.lowerBound < 0 || piece.upperBound > view.size {
            throw VulkanError.invalidArgument("fill of bytes \(piece) of a \(view.size)-byte buffer")
        }
        if let ptr = view.buffer.hostPointer {
            for piece in pieces where !piece.isEmpty {
                try produce(piece, UnsafeMutableRawBufferPointer(start: ptr + view.offset + piece.lowerBound, count: piece.count))
            }
            return
        }
        let half = pieces.map(\.count).max() ?? 0
        guard half > 0 else { return }
        let staging = try memory.stagingBlock(2 * half)
        guard let mapped = staging.mapped else { throw VulkanError.missingFeature("mapped staging memory") }
        var inFlight: [(cb: VkCommandBuffer, fence: VkFence)?] = [nil, nil]
        func finish(_ slot: Int) throws {
            guard let s = inFlight[slot] else { return }
            inFlight[slot] = nil
            defer { freeCommandBuffer(s.cb); fn.destroyFence(handle, s.fence, nil) }
            try wait(for: s.fence, what: "an upload")
        }
        defer { try? finish(0); try? finish(1) }
        for (n, piece) in pieces.filter({ !$0.isEmpty }).enumerated() {
            let slot = n % 2
            try finish(slot)   // the copy that last read this half is done
            try produce(piece, UnsafeMutableRawBufferPointer(start: mapped + slot * half, count: piece.count))
            let cb = try recordOneTime { cb in
                var region = VkBufferCopy(srcOffset: VkDeviceSize(slot * half), dstOffset: VkDeviceSize(view.absoluteOffset + piece.lowerBound),
                                          size: VkDeviceSize(piece.count))
                fn.cmdCopyBuffer(cb, staging.buffer, view.vkBuffer, 1, &region)
            }
            var fence: VkFence?
            do {
                fence = try makeFence()
                try submit(cb, signalling: fence, what: "upload")
            } catch {
                if let fence { fn.destroyFence(handle, fence, nil) }   // never submitted: nothing to wait for
                freeCommandBuffer(cb)
                throw error
            }
            inFlight[slot] = (cb, fence!)
        }
        try finish(0)
        try finish(1)
    }

    /// Copies a view's bytes back to the host.
    public func read(_ view: BufferView, into bytes: UnsafeMutableRawBufferPointer) throws {
        guard bytes.count <= view.size else {
            throw VulkanError.invalidArgument("read of \(bytes.count) bytes from a \(view.size)-byte buffer")
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if let ptr = view.buffer.hostPointer {
            base.copyMemory(from: ptr + view.offset, byteCount: bytes.count)
            return
        }
        let chunk = 64 << 20
        var done = 0
        while done < bytes.count {
            let n = min(chunk, bytes.count - done)
            let staging = try memory.stagingBlock(min(chunk, bytes.count))
            guard let mapped = staging.mapped else { throw VulkanError.missingFeature("mapped staging memory") }
            try oneShot("download") { cb in
                var region = VkBufferCopy(srcOffset: VkDeviceSize(view.absoluteOffset + done), dstOffset: 0, size: VkDeviceSize(n))
                fn.cmdCopyBuffer(cb, view.vkBuffer, staging.buffer, 1, &region)
            }
            (base + done).copyMemory(from: mapped, byteCount: n)
            done += n
        }
    }

    /// Convenience: a new buffer holding `values`.
    public func upload<T>(_ values: [T]) throws -> DeviceBuffer {
        let buffer = try allocate(bytes: values.count * MemoryLayout<T>.stride)
        try values.withUnsafeBytes { try write($0, to: buffer.view) }
        return buffer
    }

    /// Convenience: `count` values of type T read from the start of `view`.
    public func download<T>(_ view: BufferView, as: T.Type, count: Int) throws -> [T] {
        try [T](unsafeUninitializedCapacity: count) { out, initialized in
            try read(view, into: UnsafeMutableRawBufferPointer(out))
            initialized = count
        }
    }
}
