import CVulkan
import Foundation

/// A Vulkan instance, optionally with the Khronos validation layer and a messenger
/// that records its messages in `ValidationLog`.
public final class VulkanInstance {
    let handle: VkInstance
    let fn: InstanceFunctions
    private var messenger: VkDebugUtilsMessengerEXT?
    public let validationEnabled: Bool

    static let validationLayer = "VK_LAYER_KHRONOS_validation"

    /// `validation`: nil means "on when FASTVLM_VALIDATION=1".
    public init(validation: Bool? = nil) throws {
        let loader = try VulkanLoader.load()
        let wantValidation = validation ?? (ProcessInfo.processInfo.environment["FASTVLM_VALIDATION"] == "1")
        var layers: [String] = []
        var extensions: [String] = []
        if wantValidation {
            guard Self.instanceLayers(loader).contains(Self.validationLayer) else {
                throw VulkanError.missingFeature("validation was requested but \(Self.validationLayer) is not installed (Debian/Ubuntu: apt-get install vulkan-validationlayers)")
            }
            layers.append(Self.validationLayer)
            extensions += ["VK_EXT_debug_utils", "VK_EXT_validation_features"]
            Self.requestQueueSubmitSynchronizationValidation()
        }
        validationEnabled = wantValidation

        var app = VkApplicationInfo()
        app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
        app.apiVersion = (1 << 22) | (2 << 12) // Vulkan 1.2
        let instance: VkInstance = try "fastvlm-gpu".withCString { name in
            app.pApplicationName = name
            app.pEngineName = name
            return try withCStrings(layers) { layerPtrs in
                try withCStrings(extensions) { extPtrs in
                    try withUnsafePointer(to: &app) { appPtr in
                        var info = VkInstanceCreateInfo()
                        info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
                        info.pApplicationInfo = appPtr
                        return try layerPtrs.withUnsafeBufferPointer { lp in
                            try extPtrs.withUnsafeBufferPointer { ep in
                                info.enabledLayerCount = UInt32(lp.count)
                                info.ppEnabledLayerNames = lp.baseAddress
                                info.enabledExtensionCount = UInt32(ep.count)
                                info.ppEnabledExtensionNames = ep.baseAddress
                                var out: VkInstance?
                                // Synchronization validation beside core validation: hazards between
                                // dispatches (a missing barrier) are messages like any other.
                                var enables = [VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT]
                                var features = VkValidationFeaturesEXT()
                                features.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT
                                let r = enables.withUnsafeMutableBufferPointer { e in
                                    features.enabledValidationFeatureCount = UInt32(e.count)
                                    features.pEnabledValidationFeatures = UnsafePointer(e.baseAddress)
                                    return withUnsafePointer(to: &features) { f in
                                        if wantValidation { info.pNext = UnsafeRawPointer(f) }
                                        return loader.createInstance(&info, nil, &out)
                                    }
                                }
                                if r == VK_ERROR_INCOMPATIBLE_DRIVER {
                                    throw VulkanError.noDevice("the Vulkan loader found no driver supporting Vulkan 1.2")
                                }
                                try check(r, "vkCreateInstance")
                                guard let out else { throw VulkanError.call("vkCreateInstance", r) }
                                return out
                            }
                        }
                    }
                }
            }
        }
        handle = instance
        fn = try InstanceFunctions(loader: loader, instance: instance)
        if wantValidation, let create = fn.createDebugUtilsMessenger {
            var info = VkDebugUtilsMessengerCreateInfoEXT()
            info.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT
            info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT.rawValue
            info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT.rawValue
            info.pfnUserCallback = validationCallback
            var m: VkDebugUtilsMessengerEXT?
            try check(create(handle, &info, nil, &m), "vkCreateDebugUtilsMessengerEXT")
            messenger = m
        }
    }

    deinit {
        if let messenger, let destroy = fn.destroyDebugUtilsMessenger { destroy(handle, messenger, nil) }
        fn.destroyInstance(handle, nil)
    }

    /// Hazards between submissions (not only inside one command buffer) are checked by the
    /// layer only when its settings ask; 1.3.239 has no VK_EXT_layer_settings, so they come from
    /// VK_LAYER_ENABLES, read when the instance is created. A value the user set is kept.
    private static func requestQueueSubmitSynchronizationValidation() {
        let name = "VK_LAYER_ENABLES"
        guard ProcessInfo.processInfo.environment[name] == nil else { return }
        setenv(name, "VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT:VALIDATION_CHECK_ENABLE_SYNCHRONIZATION_VALIDATION_QUEUE_SUBMIT", 0)
    }

    private static func instanceLayers(_ loader: VulkanLoader) -> [String] {
        var count: UInt32 = 0
        _ = loader.enumerateInstanceLayerProperties(&count, nil)
        var props = [VkLayerProperties](repeating: VkLayerProperties(), count: Int(count))
        _ = loader.enumerateInstanceLayerProperties(&count, &props)
        return props.prefix(Int(count)).map { string(fromCArray: $0.layerName) }
    }

    /// Every physical device with its features and limits, in the driver's order.
    public func physicalDevices() throws -> [PhysicalDevice] {
        var count: UInt32 = 0
        try check(fn.enumeratePhysicalDevices(handle, &count, nil), "vkEnumeratePhysicalDevices")
        var handles = [VkPhysicalDevice?](repeating: nil, count: Int(count))
        try check(fn.enumeratePhysicalDevices(handle, &count, &handles), "vkEnumeratePhysicalDevices")
        return handles.prefix(Int(count)).enumerated().compactMap { index, h in
            h.map { PhysicalDevice(index: index, handle: $0, fn: fn) }
        }
    }
}
