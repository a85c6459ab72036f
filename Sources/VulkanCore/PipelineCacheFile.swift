import Foundation

/// The on-disk VkPipelineCache: one file per device and driver, checked before use so a
/// corrupt or foreign file is ignored rather than handed to the driver.
enum PipelineCacheFile {
    /// `$FASTVLM_CACHE_DIR`, else `$XDG_CACHE_HOME/fastvlm-gpu`, else `~/.cache/fastvlm-gpu`.
    static func directory() -> URL? {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["FASTVLM_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appending(path: "fastvlm-gpu") }
        if let home = env["HOME"], !home.isEmpty { return URL(fileURLWithPath: home).appending(path: ".cache/fastvlm-gpu") }
        return nil
    }

    static func url(for caps: DeviceCapabilities) -> URL? {
        let name = String(format: "pipelines-%04x-%04x-%08x-%@.bin", caps.vendorID, caps.deviceID, caps.driverVersion, caps.pipelineCacheUUID)
        return directory()?.appending(path: name)
    }

    /// The file's bytes if its Vulkan header matches this device (version one header, 32 bytes).
    static func load(_ url: URL, for caps: DeviceCapabilities) -> [UInt8]? {
        guard let data = try? Data(contentsOf: url), data.count >= 32 else { return nil }
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        let uuid = bytes[16..<32].map { String(format: "%02x", $0) }.joined()
        guard u32(0) == 32, u32(4) == 1, u32(8) == caps.vendorID, u32(12) == caps.deviceID, uuid == caps.pipelineCacheUUID else {
            return nil
        }
        return bytes
    }

    static func store(_ data: Data, at url: URL) {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: url, options: .atomic)
    }
}
