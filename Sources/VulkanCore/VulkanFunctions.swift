import CVulkan

/// Instance-level entry points, resolved once per instance.
struct InstanceFunctions {
    let destroyInstance: PFN_vkDestroyInstance
    let enumeratePhysicalDevices: PFN_vkEnumeratePhysicalDevices
    let getPhysicalDeviceProperties2: PFN_vkGetPhysicalDeviceProperties2
    let getPhysicalDeviceFeatures2: PFN_vkGetPhysicalDeviceFeatures2
    let getPhysicalDeviceMemoryProperties: PFN_vkGetPhysicalDeviceMemoryProperties
    let getPhysicalDeviceQueueFamilyProperties: PFN_vkGetPhysicalDeviceQueueFamilyProperties
    let enumerateDeviceExtensionProperties: PFN_vkEnumerateDeviceExtensionProperties
    let createDevice: PFN_vkCreateDevice
    let getDeviceProcAddr: PFN_vkGetDeviceProcAddr
    let createDebugUtilsMessenger: PFN_vkCreateDebugUtilsMessengerEXT?
    let destroyDebugUtilsMessenger: PFN_vkDestroyDebugUtilsMessengerEXT?
    // Optional: called only for a device that lists the extension.
    let getCooperativeMatrixPropertiesNV: PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV?
    let getCooperativeMatrixPropertiesKHR: CooperativeMatrixKHR.GetProperties?

    init(loader: VulkanLoader, instance: VkInstance) throws {
        func fn<T>(_ name: String) throws -> T {
            guard let f = loader.getInstanceProcAddr(instance, name) else { throw VulkanError.missingFunction(name) }
            return unsafeBitCast(f, to: T.self)
        }
        destroyInstance = try fn("vkDestroyInstance")
        enumeratePhysicalDevices = try fn("vkEnumeratePhysicalDevices")
        getPhysicalDeviceProperties2 = try fn("vkGetPhysicalDeviceProperties2")
        getPhysicalDeviceFeatures2 = try fn("vkGetPhysicalDeviceFeatures2")
        getPhysicalDeviceMemoryProperties = try fn("vkGetPhysicalDeviceMemoryProperties")
        getPhysicalDeviceQueueFamilyProperties = try fn("vkGetPhysicalDeviceQueueFamilyProperties")
        enumerateDeviceExtensionProperties = try fn("vkEnumerateDeviceExtensionProperties")
        createDevice = try fn("vkCreateDevice")
        getDeviceProcAddr = try fn("vkGetDeviceProcAddr")
        // Optional: present only when VK_EXT_debug_utils was enabled.
        createDebugUtilsMessenger = unsafeBitCast(loader.getInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"), to: PFN_vkCreateDebugUtilsMessengerEXT?.self)
        destroyDebugUtilsMessenger = unsafeBitCast(loader.getInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"), to: PFN_vkDestroyDebugUtilsMessengerEXT?.self)
        getCooperativeMatrixPropertiesNV = unsafeBitCast(loader.getInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"),
                                                         to: PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV?.self)
        getCooperativeMatrixPropertiesKHR = unsafeBitCast(loader.getInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"),
                                                          to: CooperativeMatrixKHR.GetProperties?.self)
    }
}

/// Device-level entry points, resolved through vkGetDeviceProcAddr (skips the loader's dispatch).
struct DeviceFunctions {
    let destroyDevice: PFN_vkDestroyDevice
    let getDeviceQueue: PFN_vkGetDeviceQueue
    let deviceWaitIdle: PFN_vkDeviceWaitIdle
    let allocateMemory: PFN_vkAllocateMemory
    let freeMemory: PFN_vkFreeMemory
    let mapMemory: PFN_vkMapMemory
    let createBuffer: PFN_vkCreateBuffer
    let destroyBuffer: PFN_vkDestroyBuffer
    let getBufferMemoryRequirements: PFN_vkGetBufferMemoryRequirements
    let bindBufferMemory: PFN_vkBindBufferMemory
    let createShaderModule: PFN_vkCreateShaderModule
    let destroyShaderModule: PFN_vkDestroyShaderModule
    let createDescriptorSetLayout: PFN_vkCreateDescriptorSetLayout
    let destroyDescriptorSetLayout: PFN_vkDestroyDescriptorSetLayout
    let createPipelineLayout: PFN_vkCreatePipelineLayout
    let destroyPipelineLayout: PFN_vkDestroyPipelineLayout
    let createComputePipelines: PFN_vkCreateComputePipelines
    let destroyPipeline: PFN_vkDestroyPipeline
    let createPipelineCache: PFN_vkCreatePipelineCache
    let destroyPipelineCache: PFN_vkDestroyPipelineCache
    let getPipelineCacheData: PFN_vkGetPipelineCacheData
    let createDescriptorPool: PFN_vkCreateDescriptorPool
    let destroyDescriptorPool: PFN_vkDestroyDescriptorPool
    let allocateDescriptorSets: PFN_vkAllocateDescriptorSets
    let updateDescriptorSets: PFN_vkUpdateDescriptorSets
    let createCommandPool: PFN_vkCreateCommandPool
    let destroyCommandPool: PFN_vkDestroyCommandPool
    let allocateCommandBuffers: PFN_vkAllocateCommandBuffers
    let freeCommandBuffers: PFN_vkFreeCommandBuffers
    let beginCommandBuffer: PFN_vkBeginCommandBuffer
    let endCommandBuffer: PFN_vkEndCommandBuffer
    let cmdBindPipeline: PFN_vkCmdBindPipeline
    let cmdBindDescriptorSets: PFN_vkCmdBindDescriptorSets
    let cmdPushConstants: PFN_vkCmdPushConstants
    let cmdDispatch: PFN_vkCmdDispatch
    let cmdPipelineBarrier: PFN_vkCmdPipelineBarrier
    let cmdCopyBuffer: PFN_vkCmdCopyBuffer
    let cmdFillBuffer: PFN_vkCmdFillBuffer
    let cmdWriteTimestamp: PFN_vkCmdWriteTimestamp
    let cmdResetQueryPool: PFN_vkCmdResetQueryPool
    let createQueryPool: PFN_vkCreateQueryPool
    let destroyQueryPool: PFN_vkDestroyQueryPool
    let getQueryPoolResults: PFN_vkGetQueryPoolResults
    let createFence: PFN_vkCreateFence
    let destroyFence: PFN_vkDestroyFence
    let resetFences: PFN_vkResetFences
    let waitForFences: PFN_vkWaitForFences
    let queueSubmit: PFN_vkQueueSubmit

    init(instance: InstanceFunctions, device: VkDevice) throws {
        func fn<T>(_ name: String) throws -> T {
            guard let f = instance.getDeviceProcAddr(device, name) else { throw VulkanError.missingFunction(name) }
            return unsafeBitCast(f, to: T.self)
        }
        destroyDevice = try fn("vkDestroyDevice")
        getDeviceQueue = try fn("vkGetDeviceQueue")
        deviceWaitIdle = try fn("vkDeviceWaitIdle")
        allocateMemory = try fn("vkAllocateMemory")
        freeMemory = try fn("vkFreeMemory")
        mapMemory = try fn("vkMapMemory")
        createBuffer = try fn("vkCreateBuffer")
        destroyBuffer = try fn("vkDestroyBuffer")
        getBufferMemoryRequirements = try fn("vkGetBufferMemoryRequirements")
        bindBufferMemory = try fn("vkBindBufferMemory")
        createShaderModule = try fn("vkCreateShaderModule")
        destroyShaderModule = try fn("vkDestroyShaderModule")
        createDescriptorSetLayout = try fn("vkCreateDescriptorSetLayout")
        destroyDescriptorSetLayout = try fn("vkDestroyDescriptorSetLayout")
        createPipelineLayout = try fn("vkCreatePipelineLayout")
        destroyPipelineLayout = try fn("vkDestroyPipelineLayout")
        createComputePipelines = try fn("vkCreateComputePipelines")
        destroyPipeline = try fn("vkDestroyPipeline")
        createPipelineCache = try fn("vkCreatePipelineCache")
        destroyPipelineCache = try fn("vkDestroyPipelineCache")
        getPipelineCacheData = try fn("vkGetPipelineCacheData")
        createDescriptorPool = try fn("vkCreateDescriptorPool")
        destroyDescriptorPool = try fn("vkDestroyDescriptorPool")
        allocateDescriptorSets = try fn("vkAllocateDescriptorSets")
        updateDescriptorSets = try fn("vkUpdateDescriptorSets")
        createCommandPool = try fn("vkCreateCommandPool")
        destroyCommandPool = try fn("vkDestroyCommandPool")
        allocateCommandBuffers = try fn("vkAllocateCommandBuffers")
        freeCommandBuffers = try fn("vkFreeCommandBuffers")
        beginCommandBuffer = try fn("vkBeginCommandBuffer")
        endCommandBuffer = try fn("vkEndCommandBuffer")
        cmdBindPipeline = try fn("vkCmdBindPipeline")
        cmdBindDescriptorSets = try fn("vkCmdBindDescriptorSets")
        cmdPushConstants = try fn("vkCmdPushConstants")
        cmdDispatch = try fn("vkCmdDispatch")
        cmdPipelineBarrier = try fn("vkCmdPipelineBarrier")
        cmdCopyBuffer = try fn("vkCmdCopyBuffer")
        cmdFillBuffer = try fn("vkCmdFillBuffer")
        cmdWriteTimestamp = try fn("vkCmdWriteTimestamp")
        cmdResetQueryPool = try fn("vkCmdResetQueryPool")
        createQueryPool = try fn("vkCreateQueryPool")
        destroyQueryPool = try fn("vkDestroyQueryPool")
        getQueryPoolResults = try fn("vkGetQueryPoolResults")
        createFence = try fn("vkCreateFence")
        destroyFence = try fn("vkDestroyFence")
        resetFences = try fn("vkResetFences")
        waitForFences = try fn("vkWaitForFences")
        queueSubmit = try fn("vkQueueSubmit")
    }
}
