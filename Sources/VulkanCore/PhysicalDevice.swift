import CVulkan

/// What a physical device can do, read once; kernels are chosen from these fields.
public struct DeviceCapabilities: Codable, Sendable {
    public var name: String
    public var type: String               // "discrete", "integrated", "virtual", "cpu", "other"
    public var vendorID: UInt32
    public var deviceID: UInt32
    public var driverName: String
    public var driverInfo: String
    public var driverVersion: UInt32
    public var apiVersion: String
    public var pipelineCacheUUID: String
    public var shaderFloat16: Bool
    public var shaderInt8: Bool
    public var shaderInt16: Bool
    public var shaderInt64: Bool
    public var storageBuffer16BitAccess: Bool
    public var storageBuffer8BitAccess: Bool
    public var subgroupSize: Int
    public var minSubgroupSize: Int
    public var maxSubgroupSize: Int
    public var subgroupOperations: [String]
    public var subgroupSizeControl: Bool
    /// VK_NV_cooperative_matrix or VK_KHR_cooperative_matrix is listed (see cooperativeMatrixShapes
    /// for what is usable).
    public var cooperativeMatrix: Bool
    /// fp16 x fp16 -> fp32 subgroup-scope shapes per extension (empty: none usable).
    public var cooperativeMatrixShapes: CooperativeMatrixShapes
    public var pushDescriptors: Bool
    public var maxComputeSharedMemorySize: Int
    public var maxComputeWorkGroupInvocations: Int
    public var maxComputeWorkGroupSize: [Int]
    public var maxPerStageDescriptorStorageBuffers: Int
    public var maxMemoryAllocationSize: Int
    public var maxComputeWorkGroupCount: [Int]
    public var maxStorageBufferRange: Int
    public var maxPushConstantsSize: Int
    public var minStorageBufferOffsetAlignment: Int
    public var timestampPeriodNs: Double
    public var timestampValidBits: Int
    public var memoryHeaps: [MemoryHeapInfo]
    public var memoryTypes: [MemoryTypeInfo]

    public struct MemoryHeapInfo: Codable, Sendable {
        public var size: UInt64
        public var deviceLocal: Bool
    }
    public struct MemoryTypeInfo: Codable, Sendable {
        public var heap: Int
        public var flags: [String]
    }

    /// Sort rank used to pick a default device: discrete, then integrated, then the rest.
    var preference: Int {
        switch type {
        case "discrete": return 0
        case "integrated": return 1
        case "virtual": return 2
        case "cpu": return 3
        default: return 4
        }
    }

    public var hasSubgroupArithmetic: Bool { subgroupOperations.contains("arithmetic") }
    public var hasSubgroupShuffle: Bool { subgroupOperations.contains("shuffle") }
}

public struct PhysicalDevice {
    public let index: Int
    let handle: VkPhysicalDevice
    public let capabilities: DeviceCapabilities
    let memoryProperties: VkPhysicalDeviceMemoryProperties
    let computeQueueFamily: UInt32?
    let extensions: Set<String>

    init(index: Int, handle: VkPhysicalDevice, fn: InstanceFunctions) {
        self.index = index
        self.handle = handle

        var extCount: UInt32 = 0
        _ = fn.enumerateDeviceExtensionProperties(handle, nil, &extCount, nil)
        var extProps = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(extCount))
        _ = fn.enumerateDeviceExtensionProperties(handle, nil, &extCount, &extProps)
        extensions = Set(extProps.prefix(Int(extCount)).map { string(fromCArray: $0.extensionName) })

        var v11 = VkPhysicalDeviceVulkan11Properties()
        v11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES
        var v12 = VkPhysicalDeviceVulkan12Properties()
        v12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES
        var sizeControl = VkPhysicalDeviceSubgroupSizeControlProperties()
        sizeControl.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES
        var props = VkPhysicalDeviceProperties2()
        props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
        let hasSizeControl = extensions.contains("VK_EXT_subgroup_size_control")
        withUnsafeMutablePointer(to: &sizeControl) { sc in
            withUnsafeMutablePointer(to: &v12) { p12 in
                if hasSizeControl { p12.pointee.pNext = UnsafeMutableRawPointer(sc) }
                withUnsafeMutablePointer(to: &v11) { p11 in
                    p11.pointee.pNext = UnsafeMutableRawPointer(p12)
                    props.pNext = UnsafeMutableRawPointer(p11)
                    fn.getPhysicalDeviceProperties2(handle, &props)
                    p11.pointee.pNext = nil
                }
                p12.pointee.pNext = nil
            }
        }
        props.pNext = nil

        var f11 = VkPhysicalDeviceVulkan11Features()
        f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES
        var f12 = VkPhysicalDeviceVulkan12Features()
        f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
        var features = VkPhysicalDeviceFeatures2()
        features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
        withUnsafeMutablePointer(to: &f12) { p12 in
            withUnsafeMutablePointer(to: &f11) { p11 in
                p11.pointee.pNext = UnsafeMutableRawPointer(p12)
                features.pNext = UnsafeMutableRawPointer(p11)
                fn.getPhysicalDeviceFeatures2(handle, &features)
                p11.pointee.pNext = nil
            }
        }
        features.pNext = nil

        var mem = VkPhysicalDeviceMemoryProperties()
        fn.getPhysicalDeviceMemoryProperties(handle, &mem)
        memoryProperties = mem

        var qCount: UInt32 = 0
        fn.getPhysicalDeviceQueueFamilyProperties(handle, &qCount, nil)
        var queues = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(qCount))
        fn.getPhysicalDeviceQueueFamilyProperties(handle, &qCount, &queues)
        // Prefer a compute-capable family; any family with compute works.
        let computeFamilies = queues.prefix(Int(qCount)).enumerated().filter { $0.element.queueFlags & VK_QUEUE_COMPUTE_BIT.rawValue != 0 }
        let family = computeFamilies.first
        computeQueueFamily = family.map { UInt32($0.offset) }

        let p = props.properties
        let limits = p.limits
        let typeName: String
        switch p.deviceType {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: typeName = "discrete"
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: typeName = "integrated"
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: typeName = "virtual"
        case VK_PHYSICAL_DEVICE_TYPE_CPU: typeName = "cpu"
        default: typeName = "other"
        }
        var ops: [String] = []
        let supported = v11.subgroupSupportedOperations
        let names: [(VkSubgroupFeatureFlagBits, String)] = [
            (VK_SUBGROUP_FEATURE_BASIC_BIT, "basic"), (VK_SUBGROUP_FEATURE_VOTE_BIT, "vote"),
            (VK_SUBGROUP_FEATURE_ARITHMETIC_BIT, "arithmetic"), (VK_SUBGROUP_FEATURE_BALLOT_BIT, "ballot"),
            (VK_SUBGROUP_FEATURE_SHUFFLE_BIT, "shuffle"), (VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT, "shuffle_relative"),
            (VK_SUBGROUP_FEATURE_CLUSTERED_BIT, "clustered"), (VK_SUBGROUP_FEATURE_QUAD_BIT, "quad"),
        ]
        // Only count operations usable from compute shaders.
        if v11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT.rawValue != 0 {
            for (bit, name) in names where supported & bit.rawValue != 0 { ops.append(name) }
        }
        let heaps = (0..<Int(mem.memoryHeapCount)).map { i in
            let heap = withUnsafeBytes(of: mem.memoryHeaps) { $0.bindMemory(to: VkMemoryHeap.self)[i] }
            return DeviceCapabilities.MemoryHeapInfo(size: heap.size, deviceLocal: heap.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT.rawValue != 0)
        }
        let types = (0..<Int(mem.memoryTypeCount)).map { i in
            let t = withUnsafeBytes(of: mem.memoryTypes) { $0.bindMemory(to: VkMemoryType.self)[i] }
            var flags: [String] = []
            if t.propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.rawValue != 0 { flags.append("device_local") }
            if t.propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue != 0 { flags.append("host_visible") }
            if t.propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue != 0 { flags.append("host_coherent") }
            if t.propertyFlags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT.rawValue != 0 { flags.append("host_cached") }
            return DeviceCapabilities.MemoryTypeInfo(heap: Int(t.heapIndex), flags: flags)
        }
        let uuid = withUnsafeBytes(of: p.pipelineCacheUUID) { $0.map { String(format2: $0) }.joined() }
        let api = p.apiVersion
        capabilities = DeviceCapabilities(
            name: string(fromCArray: p.deviceName),
            type: typeName,
            vendorID: p.vendorID,
            deviceID: p.deviceID,
            driverName: string(fromCArray: v12.driverName),
            driverInfo: string(fromCArray: v12.driverInfo),
            driverVersion: p.driverVersion,
            apiVersion: "\(api >> 22).\((api >> 12) & 0x3ff).\(api & 0xfff)",
            pipelineCacheUUID: uuid,
            shaderFloat16: f12.shaderFloat16 != 0,
            shaderInt8: f12.shaderInt8 != 0,
            shaderInt16: features.features.shaderInt16 != 0,
            shaderInt64: features.features.shaderInt64 != 0,
            storageBuffer16BitAccess: f11.storageBuffer16BitAccess != 0,
            storageBuffer8BitAccess: f12.storageBuffer8BitAccess != 0,
            subgroupSize: Int(v11.subgroupSize),
            minSubgroupSize: hasSizeControl ? Int(sizeControl.minSubgroupSize) : Int(v11.subgroupSize),
            maxSubgroupSize: hasSizeControl ? Int(sizeControl.maxSubgroupSize) : Int(v11.subgroupSize),
            subgroupOperations: ops,
            subgroupSizeControl: hasSizeControl,
            cooperativeMatrix: extensions.contains(CooperativeMatrixKHR.name) || extensions.contains(CooperativeMatrixNV.name),
            cooperativeMatrixShapes: Self.cooperativeMatrixShapes(handle, fn: fn, extensions: extensions, memoryModel: f12.vulkanMemoryModel != 0),
            pushDescriptors: extensions.contains("VK_KHR_push_descriptor"),
            maxComputeSharedMemorySize: Int(limits.maxComputeSharedMemorySize),
            maxComputeWorkGroupInvocations: Int(limits.maxComputeWorkGroupInvocations),
            maxComputeWorkGroupSize: [Int(limits.maxComputeWorkGroupSize.0), Int(limits.maxComputeWorkGroupSize.1), Int(limits.maxComputeWorkGroupSize.2)],
            maxPerStageDescriptorStorageBuffers: Int(limits.maxPerStageDescriptorStorageBuffers),
            maxMemoryAllocationSize: Int(clamping: v11.maxMemoryAllocationSize),
            maxComputeWorkGroupCount: [Int(limits.maxComputeWorkGroupCount.0), Int(limits.maxComputeWorkGroupCount.1), Int(limits.maxComputeWorkGroupCount.2)],
            maxStorageBufferRange: Int(limits.maxStorageBufferRange),
            maxPushConstantsSize: Int(limits.maxPushConstantsSize),
            minStorageBufferOffsetAlignment: Int(limits.minStorageBufferOffsetAlignment),
            timestampPeriodNs: Double(limits.timestampPeriod),
            timestampValidBits: family.map { Int($0.element.timestampValidBits) } ?? 0,
            memoryHeaps: heaps,
            memoryTypes: types)
    }
}

private extension String {
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
