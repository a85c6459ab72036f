import Foundation

/// One phase of a run (vision, projector, prefill, decode) as the profiler saw it.
public struct PhaseProfile: Sendable {
    public var name: String
    public var timings: [DispatchTiming]
    public var stats: SequenceStats
    public var wallSeconds: Double
    public var readbackBytes: Int
    /// Replays the phase is made of (decode: one per token); the header then adds per-step figures.
    public var steps: Int

    public init(name: String, timings: [DispatchTiming], stats: SequenceStats, wallSeconds: Double, readbackBytes: Int = 0, steps: Int = 1) {
        self.name = name
        self.timings = timings
        self.stats = stats
        self.wallSeconds = wallSeconds
        self.readbackBytes = readbackBytes
        self.steps = steps
    }

    public var gpuNs: Double { timings.reduce(0) { $0 + $1.durationNs } }

    /// The per-op table a kernel developer reads first: where the GPU time of this phase went.
    public func table(limit: Int = 30) -> String {
        let total = max(gpuNs, 1)
        var lines: [String] = []
        lines.append("== \(name): " + String(format: "GPU %.2f ms, wall %.2f ms, %d dispatches, %d barriers, %d submits, %d bytes read back",
                                               gpuNs / 1e6, wallSeconds * 1e3, stats.dispatches, stats.barriers, stats.submits, readbackBytes))
        let flops = timings.reduce(0) { $0 + $1.flops }, bytes = timings.reduce(0) { $0 + $1.bytes }
        var summary = String(format: "   %.2f GFLOP at %.2f GFLOP/s, %.3f GB moved at %.2f GB/s", flops / 1e9, flops / total, bytes / 1e9, bytes / total)
        if steps > 1 {
            let n = Double(steps)
            summary += String(format: "; per step (%d steps): GPU %.3f ms, wall %.3f ms, %.2f MB moved, %.0f dispatches, %.0f submits, %.0f bytes read back",
                              steps, gpuNs / 1e6 / n, wallSeconds * 1e3 / n, bytes / 1e6 / n, Double(stats.dispatches) / n, Double(stats.submits) / n,
                              Double(readbackBytes) / n)
        }
        lines.append(summary)
        lines.append(pad("op", 34) + pad("count", 7) + pad("total ms", 10) + pad("mean us", 10) + pad("GFLOP/s", 9) + pad("GB/s", 8) + "share")
        for s in Profile.summarize(timings).prefix(max(0, limit)) {
            lines.append(pad(s.label, 34) + pad("\(s.count)", 7) + pad(String(format: "%.3f", s.totalNs / 1e6), 10)
                         + pad(String(format: "%.1f", s.meanUs), 10) + pad(s.flops > 0 ? String(format: "%.2f", s.gflops) : "-", 9)
                         + pad(s.bytes > 0 ? String(format: "%.2f", s.gbps) : "-", 8) + String(format: "%5.1f%%", 100 * s.totalNs / total))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
