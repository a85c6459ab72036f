import CVulkan
import Foundation

/// A logical device with one compute queue, its memory pools, pipelines and a pipeline cache.
/// Single-threaded: record and submit from one thread at a time.
public final class Device {
    public let instance: VulkanInstance
    public let physical: PhysicalDevice
    public var capabilities: DeviceCapabilities { physical.capabilities }
    let handle: VkDevice
    let fn: DeviceFunctions
    let queue: VkQueue
    let queueFamily: UInt32
    let commandPool: VkCommandPool
    var memory: MemoryAllocator!
    var pipelines: PipelineStore!
    /// The kernel family asked for (`--kernels`, else FASTVLM_KERNELS, else auto); Ops'
    /// KernelPolicy turns it and the capabilities into the variant every op runs.
    public let kernels: KernelChoice
    /// Verdicts of the quick checks that gate variants CI cannot run (see KernelPolicy).
    public let verifiedVariants: VerifiedVariants

    /// Picks a device: `index` if given, else `FASTVLM_DEVICE`, else discrete > integrated > CPU.
    /// `kernels` nil: FASTVLM_KERNELS, else auto.
    public convenience init(index: Int? = nil, validation: Bool? = nil, kernels: KernelChoice? = nil) throws {
        let instance = try VulkanInstance(validation: validation)
        let all = try instance.physicalDevices()
        guard !all.isEmpty else { throw VulkanError.noDevice("the Vulkan loader reports no physical device") }
        var chosen: PhysicalDevice
        let envIndex = ProcessInfo.processInfo.environment["FASTVLM_DEVICE"].flatMap { Int($0) }
        if let wanted = index ?? envIndex {
            guard wanted >= 0, wanted < all.count else { throw VulkanError.deviceIndexOutOfRange(wanted, count: all.count) }
            chosen = all[wanted]
        } else {
            let usable = all.filter { $0.computeQueueFamily != nil }
            guard let best = usable.min(by: { ($0.capabilities.preference, $0.index) < ($1.capabilities.preference, $1.index) }) else {
                throw VulkanError.noDevice("no device has a compute queue")
            }
            chosen = best
        }
        try self.init(instance: instance, physical: chosen, kernels: kernels)
    }

    /// `kernels` nil: FASTVLM_KERNELS, else auto; `verifiedVariants` nil: the store beside the pipeline cache.
    public init(instance: VulkanInstance, physical: PhysicalDevice, kernels: KernelChoice? = nil, verifiedVariants: VerifiedVariants? = nil) throws {
        self.instance = instance
        self.physical = physical
        self.kernels = try KernelChoice.resolve(kernels)
        self.verifiedVariants = verifiedVariants ?? VerifiedVariants(for: physical.capabilities)
        guard let family = physical.computeQueueFamily else {
            throw VulkanError.missingFeature("\(physical.capabilities.name) has no compute queue")
        }
        let caps = physical.capabilities
        try DeviceRequirements.check(caps)
        let parts = caps.apiVersion.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2, parts[0] > 1 || parts[1] >= 2 else {
            throw VulkanError.missingFeature("Vulkan 1.2 (\(caps.name) reports \(caps.apiVersion))")
        }
        guard caps.subgroupOperations.contains("basic") else {
            throw VulkanError.missingFeature("subgroup operations in compute shaders")
        }
        queueFamily = family

        // Enable exactly the optional features the kernels may use.
        var f11 = VkPhysicalDeviceVulkan11Features()
        f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
        f11.storageBuffer16BitAccess = caps.storageBuffer16BitAccess ? 1 : 0
        var f12 = VkPhysicalDeviceVulkan12Features()
        f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
        f12.shaderFloat16 = caps.shaderFloat16 ? 1 : 0
        f12.shaderInt8 = caps.shaderInt8 ? 1 : 0
        var features = VkPhysicalDeviceFeatures2()
        features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
        features.features.shaderInt64 = caps.shaderInt64 ? 1 : 0
        // The NV cooperative-matrix kernels: the extension, its feature and the Vulkan memory
        // model their SPIR-V declares (detection already checked all three are supported).
        let coopmat = !caps.cooperativeMatrixShapes.nv.isEmpty
        var coopFeatures = VkPhysicalDeviceCooperativeMatrixFeaturesNV()
        coopFeatures.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV
        coopFeatures.cooperativeMatrix = 1
        if coopmat { f12.vulkanMemoryModel = 1 }
        let extensions = coopmat ? [CooperativeMatrixNV.name] : []

        var priority: Float = 1
        let fnInstance = instance.fn
        let physicalHandle = physical.handle
        let device: VkDevice = try withUnsafeMutablePointer(to: &coopFeatures) { pcoop in try withUnsafeMutablePointer(to: &f12) { p12 in
            if coopmat { p12.pointee.pNext = UnsafeMutableRawPointer(pcoop) }
            return try withUnsafeMutablePointer(to: &f11) { p11 in
                p11.pointee.pNext = UnsafeMutableRawPointer(p12)
                features.pNext = UnsafeMutableRawPointer(p11)
                return try withUnsafeMutablePointer(to: &features) { pf in
                    try withUnsafePointer(to: &priority) { pp in
                        var queueInfo = VkDeviceQueueCreateInfo()
                        queueInfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
                        queueInfo.queueFamilyIndex = family
                        queueInfo.queueCount = 1
                        queueInfo.pQueuePriorities = pp
                        return try withUnsafePointer(to: &queueInfo) { pq in
                            try withCStrings(extensions) { names in
                                try names.withUnsafeBufferPointer { pn in
                                    var info = VkDeviceCreateInfo()
                                    info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
                                    info.pNext = UnsafeRawPointer(pf)
                                    info.queueCreateInfoCount = 1
                                    info.pQueueCreateInfos = pq
                                    info.enabledExtensionCount = UInt32(pn.count)
                                    info.ppEnabledExtensionNames = pn.baseAddress
                                    var out: VkDevice?
                                    try check(fnInstance.createDevice(physicalHandle, &info, nil, &out), "vkCreateDevice")
                                    guard let out else { throw VulkanError.call("vkCreateDevice", VK_ERROR_INITIALIZATION_FAILED) }
                                    return out
                                }
                            }
                        }
                    }
                }
            }
        } }
        handle = device
        fn = try DeviceFunctions(instance: instance.fn, device: device)
        var q: VkQueue?
        fn.getDeviceQueue(device, family, 0, &q)
        guard let q else { throw VulkanError.call("vkGetDeviceQueue", VK_ERROR_INITIALIZATION_FAILED) }
        queue = q

        var poolInfo = VkCommandPoolCreateInfo()
        poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        poolInfo.queueFamilyIndex = family
        var pool: VkCommandPool?
        try check(fn.createCommandPool(device, &poolInfo, nil, &pool), "vkCreateCommandPool")
        guard let pool else { throw VulkanError.call("vkCreateCommandPool", VK_ERROR_INITIALIZATION_FAILED) }
        commandPool = pool

        memory = try MemoryAllocator(device: self)
        pipelines = PipelineStore(device: self)
    }

    deinit {
        _ = fn.deviceWaitIdle(handle)
        pipelines?.close()
        memory?.close()
        fn.destroyCommandPool(handle, commandPool, nil)
        fn.destroyDevice(handle, nil)
    }

    /// Waits until the device has finished everything submitted so far.
    public func waitIdle() throws {
        try check(fn.deviceWaitIdle(handle), "vkDeviceWaitIdle")
    }

    // MARK: one-shot command buffers (uploads, downloads)

    func allocateCommandBuffer() throws -> VkCommandBuffer {
        var info = VkCommandBufferAllocateInfo()
        info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        info.commandPool = commandPool
        info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        info.commandBufferCount = 1
        var cb: VkCommandBuffer?
        try check(fn.allocateCommandBuffers(handle, &info, &cb), "vkAllocateCommandBuffers")
        guard let cb else { throw VulkanError.call("vkAllocateCommandBuffers", VK_ERROR_INITIALIZATION_FAILED) }
        return cb
    }

    func freeCommandBuffer(_ cb: VkCommandBuffer) {
        var c: VkCommandBuffer? = cb
        fn.freeCommandBuffers(handle, commandPool, 1, &c)
    }

    func makeFence() throws -> VkFence {
        var info = VkFenceCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
        var fence: VkFence?
        try check(fn.createFence(handle, &info, nil, &fence), "vkCreateFence")
        guard let fence else { throw VulkanError.call("vkCreateFence", VK_ERROR_INITIALIZATION_FAILED) }
        return fence
    }

    /// One command buffer in its own submit, signalling `fence` when it completes.
    func submit(_ cb: VkCommandBuffer, signalling fence: VkFence?, what: String) throws {
        var c: VkCommandBuffer? = cb
        try withUnsafePointer(to: &c) { pc in
            var submit = VkSubmitInfo()
            submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
            submit.commandBufferCount = 1
            submit.pCommandBuffers = pc
            try check(fn.queueSubmit(queue, 1, &submit, fence), "vkQueueSubmit (\(what))")
        }
    }

    func wait(for fence: VkFence, what: String) throws {
        var f: VkFence? = fence
        try check(fn.waitForFences(handle, 1, &f, VkBool32(VK_TRUE), UInt64.max), "waiting for \(what)")
    }

    /// Submits command buffers one submit each (bounded work per submit) and waits for the last.
    func submitAndWait(_ buffers: [VkCommandBuffer], what: String) throws {
        guard !buffers.isEmpty else { return }
        let fence = try makeFence()
        defer { fn.destroyFence(handle, fence, nil) }
        for (i, cb) in buffers.enumerated() {
            try submit(cb, signalling: i == buffers.count - 1 ? fence : nil, what: what)
        }
        try wait(for: fence, what: what)
    }

    /// A new one-time command buffer holding what `body` records (freed again if that fails).
    func recordOneTime(_ body: (VkCommandBuffer) throws -> Void) throws -> VkCommandBuffer {
        let cb = try allocateCommandBuffer()
        do {
            var begin = VkCommandBufferBeginInfo()
            begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
            begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT.rawValue
            try check(fn.beginCommandBuffer(cb, &begin), "vkBeginCommandBuffer")
            try body(cb)
            try check(fn.endCommandBuffer(cb), "vkEndCommandBuffer")
        } catch {
            freeCommandBuffer(cb)
            throw error
        }
        return cb
    }

    /// Records `body` into a one-time command buffer, submits it and waits.
    func oneShot(_ what: String, _ body: (VkCommandBuffer) throws -> Void) throws {
        let cb = try recordOneTime(body)
        defer { freeCommandBuffer(cb) }
        try submitAndWait([cb], what: what)
    }
}

extension Device {
    /// Makes one deliberately invalid Vulkan call (a zero-sized buffer) so tests can prove that
    /// validation messages reach `ValidationLog`.
    func provokeValidationMessage() {
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = 0
        info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue
        var buffer: VkBuffer?
        if fn.createBuffer(handle, &info, nil, &buffer) == VK_SUCCESS, let buffer { fn.destroyBuffer(handle, buffer, nil) }
    }
}
