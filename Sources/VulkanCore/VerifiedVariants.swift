import Foundation

/// Kernel variants that CI cannot run (cooperative matrix on lavapipe) are used only after a
/// quick check against the CPU reference passed on this device. The verdicts are remembered
/// per device and driver version in a small JSON file beside the pipeline cache, so the check
/// runs once per driver; a failed check is reported once (stderr) and the caller falls back.
public final class VerifiedVariants {
    /// Where the verdicts are kept (nil: in memory only).
    public let url: URL?
    private var verdicts: [String: Bool]
    private var reported: Set<String> = []
    private let report: (String) -> Void

    struct Store: Codable {
        var format = 1
        var verdicts: [String: Bool]
    }

    public init(url: URL?, report: @escaping (String) -> Void = VerifiedVariants.standardError) {
        self.url = url
        self.report = report
        // A missing, unreadable or corrupt file is an empty store: the checks simply run again.
        if let url, let data = try? Data(contentsOf: url), let store = try? JSONDecoder().decode(Store.self, from: data), store.format == 1 {
            verdicts = store.verdicts
        } else {
            verdicts = [:]
        }
    }

    /// The store for this device and driver beside the pipeline cache.
    public convenience init(for caps: DeviceCapabilities) {
        self.init(url: PipelineCacheFile.directory()?.appending(path: Self.fileName(for: caps)))
    }

    static func fileName(for caps: DeviceCapabilities) -> String {
        String(format: "verified-variants-%04x-%04x-%08x-%@.json", caps.vendorID, caps.deviceID, caps.driverVersion, caps.pipelineCacheUUID)
    }

    public static func standardError(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// The remembered verdict, nil when the variant was never checked here.
    public func verdict(_ variant: String) -> Bool? { verdicts[variant] }

    /// Whether `variant` may be used: its remembered verdict, else the result of `check` (a
    /// throw counts as a failure), stored. A failure is reported once per store.
    public func verified(_ variant: String, check: () throws -> Bool) -> Bool {
        if let known = verdicts[variant] {
            if !known { reportFailure(variant, "failed its check against the CPU reference on this device and driver earlier") }
            return known
        }
        var why = "gave results that differ from the CPU reference"
        let passed: Bool
        do { passed = try check() } catch {
            passed = false
            why = "could not run its check (\(error))"
        }
        verdicts[variant] = passed
        save()
        if !passed { reportFailure(variant, why) }
        return passed
    }

    private func reportFailure(_ variant: String, _ why: String) {
        guard reported.insert(variant).inserted else { return }
        report("fastvlm-gpu: kernel variant \(variant) \(why); using the next variant instead (verdict kept in \(url?.path ?? "memory"))")
    }

    private func save() {
        guard let url, let data = try? JSONEncoder().encode(Store(verdicts: verdicts)) else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: url, options: .atomic)
    }
}
