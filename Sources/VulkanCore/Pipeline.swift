import CVulkan
import Foundation

/// A compute pipeline: `bindings` storage buffers (set 0, bindings 0..n-1), push constants,
/// specialization constants (ids 0..n-1, 32-bit each).
public final class ComputePipeline {
    public let name: String
    public let bindingCount: Int
    public let pushConstantSize: Int
    let handle: VkPipeline
    let layout: VkPipelineLayout
    let setLayout: VkDescriptorSetLayout

    init(name: String, bindingCount: Int, pushConstantSize: Int, handle: VkPipeline, layout: VkPipelineLayout, setLayout: VkDescriptorSetLayout) {
        self.name = name
        self.bindingCount = bindingCount
        self.pushConstantSize = pushConstantSize
        self.handle = handle
        self.layout = layout
        self.setLayout = setLayout
    }
}

/// Creates pipelines once per (shader, specialization) and keeps them; owns the VkPipelineCache.
final class PipelineStore {
    unowned(unsafe) let device: Device  // the Device owns this and outlives it; checked unowned would trap during Device.deinit
    private var pipelines: [String: ComputePipeline] = [:]
    private var cache: VkPipelineCache?
    private let cacheFile: URL?

    init(device: Device) {
        self.device = device
        cacheFile = PipelineCacheFile.url(for: device.capabilities)
        let initial = cacheFile.flatMap { PipelineCacheFile.load($0, for: device.capabilities) } ?? []
        var info = VkPipelineCacheCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO
        var c: VkPipelineCache?
        let r: VkResult = initial.withUnsafeBytes { raw in
            info.initialDataSize = raw.count
            info.pInitialData = raw.baseAddress
            return device.fn.createPipelineCache(device.handle, &info, nil, &c)
        }
        if r != VK_SUCCESS {
            // A cache the driver rejects is not fatal: start empty.
            info.initialDataSize = 0
            info.pInitialData = nil
            _ = device.fn.createPipelineCache(device.handle, &info, nil, &c)
        }
        cache = c
    }

    func close() {
        save()
        for p in pipelines.values {
            device.fn.destroyPipeline(device.handle, p.handle, nil)
            device.fn.destroyPipelineLayout(device.handle, p.layout, nil)
            device.fn.destroyDescriptorSetLayout(device.handle, p.setLayout, nil)
        }
        pipelines.removeAll()
        if let cache { device.fn.destroyPipelineCache(device.handle, cache, nil) }
        cache = nil
    }

    /// Writes the driver's pipeline cache to disk (best effort: a failure only costs compile time).
    func save() {
        guard let cache, let cacheFile else { return }
        var size = 0
        guard device.fn.getPipelineCacheData(device.handle, cache, &size, nil) == VK_SUCCESS, size > 0 else { return }
        var data = Data(count: size)
        let r = data.withUnsafeMutableBytes { device.fn.getPipelineCacheData(device.handle, cache, &size, $0.baseAddress) }
        guard r == VK_SUCCESS else { return }
        PipelineCacheFile.store(data.prefix(size), at: cacheFile)
    }

    func pipeline(_ shader: ShaderSource, bindings: Int, pushConstantSize: Int, specialization: [UInt32]) throws -> ComputePipeline {
        let key = shader.name + "|" + specialization.map(String.init).joined(separator: ",") + "|\(bindings)|\(pushConstantSize)"
        if let p = pipelines[key] { return p }
        let caps = device.capabilities
        guard pushConstantSize <= caps.maxPushConstantsSize else {
            throw VulkanError.missingFeature("\(pushConstantSize) bytes of push constants for \(shader.name) (device allows \(caps.maxPushConstantsSize))")
        }
        let fn = device.fn
        let dev = device.handle
        let words = shader.words
        guard !words.isEmpty else { throw VulkanError.invalidArgument("shader \(shader.name) has no SPIR-V (build defect)") }

        var module: VkShaderModule?
        try words.withUnsafeBufferPointer { code in
            var info = VkShaderModuleCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
            info.codeSize = code.count * 4
            info.pCode = code.baseAddress
            try check(fn.createShaderModule(dev, &info, nil, &module), "vkCreateShaderModule (\(shader.name))")
        }
        guard let module else { throw VulkanError.call("vkCreateShaderModule", VK_ERROR_INITIALIZATION_FAILED) }
        defer { fn.destroyShaderModule(dev, module, nil) }

        var layoutBindings = (0..<bindings).map { i in
            var b = VkDescriptorSetLayoutBinding()
            b.binding = UInt32(i)
            b.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            b.descriptorCount = 1
            b.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return b
        }
        var setLayout: VkDescriptorSetLayout?
        try layoutBindings.withUnsafeMutableBufferPointer { lb in
            var info = VkDescriptorSetLayoutCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
            info.bindingCount = UInt32(lb.count)
            info.pBindings = UnsafePointer(lb.baseAddress)
            try check(fn.createDescriptorSetLayout(dev, &info, nil, &setLayout), "vkCreateDescriptorSetLayout")
        }
        guard let setLayout else { throw VulkanError.call("vkCreateDescriptorSetLayout", VK_ERROR_INITIALIZATION_FAILED) }

        var range = VkPushConstantRange(stageFlags: VK_SHADER_STAGE_COMPUTE_BIT.rawValue, offset: 0, size: UInt32(pushConstantSize))
        var layout: VkPipelineLayout?
        var sl: VkDescriptorSetLayout? = setLayout
        var layoutInfo = VkPipelineLayoutCreateInfo()
        layoutInfo.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
        try withUnsafePointer(to: &sl) { psl in
            try withUnsafePointer(to: &range) { pr in
                layoutInfo.setLayoutCount = 1
                layoutInfo.pSetLayouts = psl
                layoutInfo.pushConstantRangeCount = pushConstantSize > 0 ? 1 : 0
                layoutInfo.pPushConstantRanges = pushConstantSize > 0 ? pr : nil
                try check(fn.createPipelineLayout(dev, &layoutInfo, nil, &layout), "vkCreatePipelineLayout")
            }
        }
        guard let layout else { throw VulkanError.call("vkCreatePipelineLayout", VK_ERROR_INITIALIZATION_FAILED) }

        var entries = specialization.indices.map { i in
            VkSpecializationMapEntry(constantID: UInt32(i), offset: UInt32(i * 4), size: 4)
        }
        var pipeline: VkPipeline?
        let cache = self.cache
        try entries.withUnsafeMutableBufferPointer { pe in
            try specialization.withUnsafeBytes { data in
                var spec = VkSpecializationInfo(mapEntryCount: UInt32(pe.count), pMapEntries: UnsafePointer(pe.baseAddress), dataSize: data.count, pData: data.baseAddress)
                try withUnsafePointer(to: &spec) { ps in
                    try "main".withCString { entry in
                        var stage = VkPipelineShaderStageCreateInfo()
                        stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
                        stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
                        stage.module = module
                        stage.pName = entry
                        stage.pSpecializationInfo = specialization.isEmpty ? nil : ps
                        var info = VkComputePipelineCreateInfo()
                        info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
                        info.stage = stage
                        info.layout = layout
                        try check(fn.createComputePipelines(dev, cache, 1, &info, nil, &pipeline), "vkCreateComputePipelines (\(shader.name))")
                    }
                }
            }
        }
        guard let pipeline else { throw VulkanError.call("vkCreateComputePipelines", VK_ERROR_INITIALIZATION_FAILED) }
        let p = ComputePipeline(name: shader.name, bindingCount: bindings, pushConstantSize: pushConstantSize, handle: pipeline, layout: layout, setLayout: setLayout)
        pipelines[key] = p
        return p
    }
}

extension Device {
    /// The pipeline for `shader` with these specialization constants, created on first use.
    public func pipeline(_ shader: ShaderSource, bindings: Int, pushConstantSize: Int, specialization: [UInt32] = []) throws -> ComputePipeline {
        try pipelines.pipeline(shader, bindings: bindings, pushConstantSize: pushConstantSize, specialization: specialization)
    }

    /// Persists the pipeline cache now (it is also saved when the device closes).
    public func savePipelineCache() { pipelines.save() }
}
