import CVulkan

/// Every Vulkan failure the program can meet, with a message a user can act on.
public enum VulkanError: Error, CustomStringConvertible {
    case loaderMissing(String)
    case missingFunction(String)
    case noDevice(String)
    case deviceIndexOutOfRange(Int, count: Int)
    case missingFeature(String)
    case outOfDeviceMemory(requested: Int, detail: String)
    case deviceLost(String)
    case call(String, VkResult)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .loaderMissing(let why):
            return "no Vulkan loader: \(why). Install the Vulkan loader (Debian/Ubuntu: apt-get install libvulkan1) and a driver (mesa-vulkan-drivers for lavapipe, or your GPU vendor's driver)."
        case .missingFunction(let name):
            return "the Vulkan driver does not provide \(name)"
        case .noDevice(let why):
            return "no Vulkan device: \(why). Install a Vulkan driver (Debian/Ubuntu: mesa-vulkan-drivers for the lavapipe CPU device, or your GPU vendor's driver)."
        case .deviceIndexOutOfRange(let index, let count):
            return "device \(index) does not exist: there are \(count) Vulkan device(s) (see `fastvlm-gpu devices`)"
        case .missingFeature(let what):
            return "the Vulkan device lacks a required feature: \(what)"
        case .outOfDeviceMemory(let requested, let detail):
            return "out of device memory allocating \(requested / (1 << 20)) MiB (\(detail)); try a smaller model or free GPU memory"
        case .deviceLost(let what):
            return "the Vulkan device was lost during \(what) (a driver reset, often a kernel that ran too long or read out of bounds)"
        case .call(let name, let result):
            return "\(name) failed: \(resultName(result))"
        case .invalidArgument(let what):
            return what
        }
    }
}

func resultName(_ r: VkResult) -> String {
    switch r {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY"
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY"
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED"
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST"
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT"
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT"
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT"
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER"
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS"
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY"
    case VK_TIMEOUT: return "VK_TIMEOUT"
    default: return "VkResult \(r.rawValue)"
    }
}

/// Turns a VkResult into a thrown error; device loss and memory exhaustion get their own cases.
@inline(__always)
func check(_ result: VkResult, _ name: @autoclosure () -> String) throws {
    guard result != VK_SUCCESS else { return }
    switch result {
    case VK_ERROR_DEVICE_LOST: throw VulkanError.deviceLost(name())
    case VK_ERROR_OUT_OF_DEVICE_MEMORY, VK_ERROR_OUT_OF_HOST_MEMORY:
        throw VulkanError.outOfDeviceMemory(requested: 0, detail: name() + " returned " + resultName(result))
    default: throw VulkanError.call(name(), result)
    }
}
