import CVulkan
import Foundation

/// Messages from VK_LAYER_KHRONOS_validation, collected so tests can fail on any of them.
public enum ValidationLog {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var messages: [String] = []

    /// Every message received since the last `drain()`, oldest first, and clears the log.
    public static func drain() -> [String] {
        lock.lock(); defer { lock.unlock() }
        let out = messages
        messages.removeAll()
        return out
    }

    static func append(_ message: String) {
        lock.lock(); messages.append(message); lock.unlock()
        if ProcessInfo.processInfo.environment["FASTVLM_VALIDATION_PRINT"] == "1" {
            FileHandle.standardError.write(Data(("validation: " + message + "\n").utf8))
        }
    }
}

/// The debug-utils callback: records warnings and errors (info/verbose are chatter).
let validationCallback: PFN_vkDebugUtilsMessengerCallbackEXT = { severity, _, data, _ in
    let important = severity.rawValue & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT.rawValue | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT.rawValue)
    if important != 0, let message = data?.pointee.pMessage {
        ValidationLog.append(String(cString: message))
    }
    return VkBool32(VK_FALSE)
}
