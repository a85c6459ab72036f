import Foundation

/// How much host memory a large allocation may count on.
public enum HostMemory {
    /// Bytes available to a new allocation and where the number came from: `MemAvailable` in
    /// /proc/meminfo on Linux (free plus reclaimable cache), else the physical memory size.
    public static func available() -> (bytes: UInt64, source: String) {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8), let bytes = memAvailable(meminfo: text) {
            return (bytes, "MemAvailable in /proc/meminfo")
        }
        return (ProcessInfo.processInfo.physicalMemory, "physical memory")
    }

    /// The `MemAvailable:  123456 kB` line of /proc/meminfo, in bytes.
    public static func memAvailable(meminfo: String) -> UInt64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.dropFirst("MemAvailable:".count).split(separator: " ")
            guard let value = fields.first.flatMap({ UInt64($0) }) else { return nil }
            let unit = fields.count > 1 ? fields[1].lowercased() : "b"
            switch unit {
            case "kb": return value * 1024
            case "mb": return value * 1024 * 1024
            case "b": return value
            default: return nil
            }
        }
        return nil
    }
}
