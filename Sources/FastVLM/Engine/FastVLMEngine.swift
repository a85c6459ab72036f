import Foundation
import Ops
import VulkanCore

/// How many requests the engine serves at once and how long it waits.
public struct EngineOptions: Sendable {
    /// Requests decoded together (one batched GPU step for all), each with its own KV cache.
    public var slots = 4
    /// Requests that may wait while every slot is taken; more are refused (`queueFull`).
    public var queueLimit = 64
    /// Seconds a request may take from submission to its last token.
    public var timeoutSeconds: Double = 600
    /// Images whose projected rows are kept (by content hash).
    public var imageCacheEntries = 32

    public init() {}
}

/// What the engine has done so far, for monitoring.
public struct EngineStatistics: Sendable {
    public var waiting = 0
    public var active = 0
    public var visionEncoderRuns = 0
    public var imageCacheHits = 0
    /// Prompt positions taken from the cache of an earlier prompt instead of computed.
    public var reusedPrefixTokens = 0
    public var prefilledTokens = 0
    public var decodeSteps = 0
    public var generatedTokens = 0
    public var deviceBytesInUse = 0
    public var deviceHeapBytes = 0

    public init() {}
}

/// FastVLM for Swift programs and servers: one model on one GPU answering many requests.
///
/// ```swift
/// let engine = try FastVLMEngine(folder: URL(fileURLWithPath: "FastVLM-0.5B"))
/// let image = try Data(contentsOf: URL(fileURLWithPath: "photo.jpg"))
/// for try await event in engine.answer(ChatRequest(prompt: "Describe the image.", image: image)) {
///     if case .text(let piece) = event { print(piece, terminator: "") }
/// }
/// ```
///
/// The Vulkan objects are not thread-safe, so one thread owns the GPU: `answer` only queues a
/// request. That thread admits queued requests into free slots (vision encoder, or the image
/// cache, then prefill) between decode steps, and runs the decode steps of all active requests
/// as one batched step. Nothing but caches is carried from one request to the next.
public final class FastVLMEngine: @unchecked Sendable {
    public let pipeline: FastVLMPipeline
    public let options: EngineOptions
    private let scheduler: EngineScheduler

    /// Loads the model on the GPU (blocking; seconds to minutes) and starts the engine's thread.
    /// `runtime.contextTokens` is the context of each slot.
    public init(folder: URL, runtime: RuntimeOptions = RuntimeOptions(), options: EngineOptions = EngineOptions(),
                progress: (String) -> Void = { _ in }) throws {
        guard runtime.backend == .gpu else { throw EngineError(.badRequest, "the engine runs on the GPU backend only") }
        guard options.queueLimit >= 0, options.timeoutSeconds > 0 else { throw EngineError(.badRequest, "the queue limit and timeout must be positive") }
        var runtime = runtime
        runtime.decodeSlots = options.slots
        pipeline = try FastVLMPipeline(folder: folder, runtime: runtime, progress: progress)
        guard let session = pipeline.language as? GPULanguageSession, let encoder = pipeline.encoder else {
            throw EngineError(.failed, "the GPU pipeline has no GPU decoder")
        }
        progress("allocating \(options.slots) decode slots")
        let decoder = try BatchedDecoder(model: session.model, slots: options.slots)
        self.options = options
        scheduler = try EngineScheduler(pipeline: pipeline, encoder: encoder, decoder: decoder, options: options)
    }

    deinit { scheduler.stop() }

    /// Streams the answer to `request`: `.started`, `.text` pieces, `.finished`; a request the
    /// engine refuses or cannot finish ends the stream with an `EngineError`. Ending the
    /// iteration early (or cancelling its task) frees the request's slot at the next step.
    public func answer(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, Error> {
        AsyncThrowingStream { continuation in
            let job = EngineJob(request: request, continuation: continuation,
                                deadline: DispatchTime.now().uptimeNanoseconds + UInt64(options.timeoutSeconds * 1e9))
            continuation.onTermination = { _ in job.cancel() }
            scheduler.submit(job)
        }
    }

    /// The whole answer at once.
    public func complete(_ request: ChatRequest) async throws -> (text: String, finish: FinishReason, promptTokens: Int, completionTokens: Int) {
        var text = ""
        for try await event in answer(request) {
            switch event {
            case .started: break
            case .text(let piece): text += piece
            case .finished(let reason, let prompt, let completion):
                return (text.trimmingCharacters(in: .whitespacesAndNewlines), reason, prompt, completion)
            }
        }
        throw EngineError(.failed, "the answer ended without finishing")
    }

    public var statistics: EngineStatistics { scheduler.statistics }

    /// Ends every request and the engine's thread.
    public func stop() { scheduler.stop() }
}
