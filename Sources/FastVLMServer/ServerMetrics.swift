import FastVLM
import Foundation
import Prometheus

/// The /metrics registry: request counts by status, queue length and active requests, time
/// to first token and per-request decode speed, device memory, vision-encoder runs and
/// image-cache hits. Engine counters are read from its statistics when /metrics is asked.
final class ServerMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var counted = EngineStatistics()
    private let ttft: ValueHistogram
    private let tokensPerSecond: ValueHistogram
    private let waiting, active, deviceBytes, heapBytes: Gauge
    private let visionRuns, cacheHits, reusedTokens, generated: Counter

    init() {
        ttft = registry.makeValueHistogram(descriptor: Self.name("time_to_first_token", "seconds", "Seconds from a request's arrival to its first answer token"),
                                           buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60])
        tokensPerSecond = registry.makeValueHistogram(descriptor: Self.name("decode_tokens_per_second", "", "Decode speed of each finished request (tokens after the first per second)"),
                                                      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500])
        waiting = registry.makeGauge(descriptor: Self.name("queue", "length", "Requests waiting for a decode slot"))
        active = registry.makeGauge(descriptor: Self.name("active_requests", "", "Requests holding a decode slot"))
        deviceBytes = registry.makeGauge(descriptor: Self.name("device_memory", "bytes", "Device memory allocated by the engine"))
        heapBytes = registry.makeGauge(descriptor: Self.name("device_heap", "bytes", "Size of the device memory heap"))
        visionRuns = registry.makeCounter(descriptor: Self.name("vision_encoder_runs", "total", "Images run through the vision encoder"))
        cacheHits = registry.makeCounter(descriptor: Self.name("image_cache_hits", "total", "Images whose features came from the cache"))
        reusedTokens = registry.makeCounter(descriptor: Self.name("prefix_reused_tokens", "total", "Prompt positions reused from the cache of an earlier prompt"))
        generated = registry.makeCounter(descriptor: Self.name("generated_tokens", "total", "Answer tokens generated"))
    }

    func request(status: Int) {
        registry.makeCounter(descriptor: Self.name("requests", "total", "Chat completion requests by HTTP status"), labels: [("status", String(status))]).increment()
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "fastvlm", metricName: metric, unitName: unit, helpText: help)
    }

    func firstToken(after seconds: Double) { ttft.record(seconds) }

    func finished(tokens: Int, decodeSeconds: Double) {
        if tokens > 1, decodeSeconds > 0 { tokensPerSecond.record(Double(tokens - 1) / decodeSeconds) }
    }

    /// The Prometheus text, with the engine's counters brought up to date.
    func render(_ engine: EngineStatistics?) -> String {
        lock.withLock {
            if let s = engine {
                waiting.set(Double(s.waiting))
                active.set(Double(s.active))
                deviceBytes.set(Double(s.deviceBytesInUse))
                heapBytes.set(Double(s.deviceHeapBytes))
                visionRuns.increment(by: Int64(s.visionEncoderRuns - counted.visionEncoderRuns))
                cacheHits.increment(by: Int64(s.imageCacheHits - counted.imageCacheHits))
                reusedTokens.increment(by: Int64(s.reusedPrefixTokens - counted.reusedPrefixTokens))
                generated.increment(by: Int64(s.generatedTokens - counted.generatedTokens))
                counted = s
            }
            return registry.emitToString()
        }
    }
}
