import CVulkan

/// Descriptor sets for a recorded sequence: allocated from pools that live as long as it does.
struct DescriptorArena {
    unowned(unsafe) let device: Device  // the Device owns this and outlives it; checked unowned would trap during Device.deinit
    private var pools: [VkDescriptorPool] = []
    private var setsLeft = 0
    private var descriptorsLeft = 0
    private static let setsPerPool = 256
    private static let descriptorsPerPool = 256 * 8

    init(device: Device) { self.device = device }

    func close() {
        for p in pools { device.fn.destroyDescriptorPool(device.handle, p, nil) }
    }

    mutating func set(for pipeline: ComputePipeline, bindings: [Binding]) throws -> VkDescriptorSet {
        if setsLeft < 1 || descriptorsLeft < bindings.count { try addPool(minDescriptors: bindings.count) }
        guard let pool = pools.last else { throw VulkanError.call("vkCreateDescriptorPool", VK_ERROR_INITIALIZATION_FAILED) }
        var layout: VkDescriptorSetLayout? = pipeline.setLayout
        var info = VkDescriptorSetAllocateInfo()
        info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO
        info.descriptorPool = pool
        info.descriptorSetCount = 1
        var set: VkDescriptorSet?
        try withUnsafePointer(to: &layout) { pl in
            info.pSetLayouts = pl
            try check(device.fn.allocateDescriptorSets(device.handle, &info, &set), "vkAllocateDescriptorSets")
        }
        guard let set else { throw VulkanError.call("vkAllocateDescriptorSets", VK_ERROR_INITIALIZATION_FAILED) }
        setsLeft -= 1
        descriptorsLeft -= bindings.count

        var infos = bindings.map { VkDescriptorBufferInfo(buffer: $0.view.vkBuffer, offset: VkDeviceSize($0.view.absoluteOffset), range: VkDeviceSize($0.view.size)) }
        infos.withUnsafeMutableBufferPointer { pi in
            var writes = (0..<bindings.count).map { i -> VkWriteDescriptorSet in
                var w = VkWriteDescriptorSet()
                w.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                w.dstSet = set
                w.dstBinding = UInt32(i)
                w.descriptorCount = 1
                w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                w.pBufferInfo = UnsafePointer(pi.baseAddress.map { $0 + i })
                return w
            }
            guard !writes.isEmpty else { return }
            device.fn.updateDescriptorSets(device.handle, UInt32(writes.count), &writes, 0, nil)
        }
        return set
    }

    private mutating func addPool(minDescriptors: Int) throws {
        let count = max(Self.descriptorsPerPool, minDescriptors)
        var size = VkDescriptorPoolSize(type: VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount: UInt32(count))
        var info = VkDescriptorPoolCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO
        info.maxSets = UInt32(Self.setsPerPool)
        info.poolSizeCount = 1
        var pool: VkDescriptorPool?
        try withUnsafePointer(to: &size) { ps in
            info.pPoolSizes = ps
            try check(device.fn.createDescriptorPool(device.handle, &info, nil, &pool), "vkCreateDescriptorPool")
        }
        guard let pool else { throw VulkanError.call("vkCreateDescriptorPool", VK_ERROR_INITIALIZATION_FAILED) }
        pools.append(pool)
        setsLeft = Self.setsPerPool
        descriptorsLeft = count
    }
}
