import Foundation

/// GPU time of one dispatch, from timestamp queries.
public struct DispatchTiming: Sendable {
    public let label: String
    public let kernel: String
    public let startNs: Double
    public let durationNs: Double
    public let flops: Double
    public let bytes: Double

    public init(label: String, kernel: String, startNs: Double, durationNs: Double, flops: Double, bytes: Double) {
        self.label = label
        self.kernel = kernel
        self.startNs = startNs
        self.durationNs = durationNs
        self.flops = flops
        self.bytes = bytes
    }
}

extension Array where Element == DispatchTiming {
    /// Appends the timings of a later run (whose times start at its own zero) after the ones
    /// already here, so several replays of one phase lie one after another in a trace.
    public mutating func appendRun(_ run: [DispatchTiming]) {
        let offset = isEmpty ? 0 : (map { $0.startNs + $0.durationNs }.max() ?? 0) + 1000
        self += run.map { DispatchTiming(label: $0.label, kernel: $0.kernel, startNs: $0.startNs + offset, durationNs: $0.durationNs,
                                         flops: $0.flops, bytes: $0.bytes) }
    }
}

/// Per-kernel totals over a set of timings.
public struct KernelSummary: Sendable {
    public let label: String
    public var count = 0
    public var totalNs: Double = 0
    public var flops: Double = 0
    public var bytes: Double = 0
    public var meanUs: Double { count == 0 ? 0 : totalNs / Double(count) / 1000 }
    public var gflops: Double { totalNs == 0 ? 0 : flops / totalNs }
    public var gbps: Double { totalNs == 0 ? 0 : bytes / totalNs }
}

public enum Profile {
    /// Aggregates timings by label, largest total first.
    public static func summarize(_ timings: [DispatchTiming]) -> [KernelSummary] {
        var byLabel: [String: KernelSummary] = [:]
        for t in timings {
            var s = byLabel[t.label] ?? KernelSummary(label: t.label)
            s.count += 1
            s.totalNs += t.durationNs
            s.flops += t.flops
            s.bytes += t.bytes
            byLabel[t.label] = s
        }
        return byLabel.values.sorted { $0.totalNs > $1.totalNs }
    }

    /// Chrome trace JSON (opens in Perfetto / chrome://tracing): one complete event per
    /// dispatch, nested under one event per phase.
    public static func chromeTrace(phases: [(name: String, timings: [DispatchTiming])]) -> Data {
        var events: [[String: Any]] = []
        var offsetUs = 0.0
        for phase in phases {
            let end = phase.timings.map { ($0.startNs + $0.durationNs) / 1000 }.max() ?? 0
            events.append(["name": phase.name, "ph": "X", "pid": 1, "tid": 1, "ts": offsetUs, "dur": end, "cat": "phase"])
            for t in phase.timings {
                var args: [String: Any] = ["kernel": t.kernel]
                if t.flops > 0 { args["gflops"] = t.flops / max(t.durationNs, 1) }
                if t.bytes > 0 { args["gbps"] = t.bytes / max(t.durationNs, 1) }
                events.append(["name": t.label, "ph": "X", "pid": 1, "tid": 1, "ts": offsetUs + t.startNs / 1000,
                               "dur": t.durationNs / 1000, "cat": "dispatch", "args": args])
            }
            offsetUs += end + 1
        }
        let object: [String: Any] = ["traceEvents": events, "displayTimeUnit": "ms"]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }
}
