import CVulkan
#if canImport(Glibc)
import Glibc
#endif

/// The Vulkan loader opened with dlopen, and the entry points that need no instance.
final class VulkanLoader {
    let getInstanceProcAddr: PFN_vkGetInstanceProcAddr
    let createInstance: PFN_vkCreateInstance
    let enumerateInstanceLayerProperties: PFN_vkEnumerateInstanceLayerProperties
    let enumerateInstanceExtensionProperties: PFN_vkEnumerateInstanceExtensionProperties

    nonisolated(unsafe) private static var shared: VulkanLoader?

    static func load() throws -> VulkanLoader {
        if let shared { return shared }
        var handle: UnsafeMutableRawPointer?
        for name in ["libvulkan.so.1", "libvulkan.so"] where handle == nil {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
        }
        guard let handle else {
            throw VulkanError.loaderMissing("dlopen(libvulkan.so.1) failed: " + String(cString: dlerror()))
        }
        guard let sym = dlsym(handle, "vkGetInstanceProcAddr") else {
            throw VulkanError.loaderMissing("libvulkan.so.1 has no vkGetInstanceProcAddr")
        }
        let gipa = unsafeBitCast(sym, to: PFN_vkGetInstanceProcAddr.self)
        func global<T>(_ name: String) throws -> T {
            guard let f = gipa(nil, name) else { throw VulkanError.missingFunction(name) }
            return unsafeBitCast(f, to: T.self)
        }
        let loader = VulkanLoader(
            getInstanceProcAddr: gipa,
            createInstance: try global("vkCreateInstance"),
            enumerateInstanceLayerProperties: try global("vkEnumerateInstanceLayerProperties"),
            enumerateInstanceExtensionProperties: try global("vkEnumerateInstanceExtensionProperties"))
        shared = loader
        return loader
    }

    private init(getInstanceProcAddr: PFN_vkGetInstanceProcAddr,
                 createInstance: PFN_vkCreateInstance,
                 enumerateInstanceLayerProperties: PFN_vkEnumerateInstanceLayerProperties,
                 enumerateInstanceExtensionProperties: PFN_vkEnumerateInstanceExtensionProperties) {
        self.getInstanceProcAddr = getInstanceProcAddr
        self.createInstance = createInstance
        self.enumerateInstanceLayerProperties = enumerateInstanceLayerProperties
        self.enumerateInstanceExtensionProperties = enumerateInstanceExtensionProperties
    }
}
