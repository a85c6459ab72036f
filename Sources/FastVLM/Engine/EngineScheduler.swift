import Foundation
import Ops
import VulkanCore

/// The engine's thread: the only code that touches the GPU. Each turn of its loop drops
/// cancelled and timed-out requests, admits at most one waiting request into a free slot
/// (image rows from the cache or the vision encoder, then prefill), and runs one batched
/// decode step for every active request, so a new request delays running ones by one
/// prefill at most.
final class EngineScheduler: @unchecked Sendable {
    private let pipeline: FastVLMPipeline
    private let encoder: GPUVisionEncoder
    private let decoder: BatchedDecoder
    private let options: EngineOptions
    /// The projected rows of the image of the prompt being prefilled (a fixed buffer, so the
    /// prefill recordings that read it are replayed rather than recorded again).
    private let imageRows: DeviceBuffer

    private let condition = NSCondition()
    private var waiting: [EngineJob] = []
    private var stopped = false
    private var stats = EngineStatistics()
    private var thread: Thread?

    // Engine thread only.
    private var active: [EngineJob] = []
    private var freeSlots: [Int]
    private var images: ImageFeatureCache
    /// What the model's own cache holds (the last prefilled prompt and its image), for reuse.
    private var staged: (prompt: [Int?], image: String?) = ([], nil)

    init(pipeline: FastVLMPipeline, encoder: GPUVisionEncoder, decoder: BatchedDecoder, options: EngineOptions) throws {
        self.pipeline = pipeline
        self.encoder = encoder
        self.decoder = decoder
        self.options = options
        imageRows = try decoder.model.device.allocate(bytes: max(4, pipeline.imageTokens * decoder.model.config.hiddenSize * 4))
        freeSlots = Array(0..<decoder.slotCount)
        images = ImageFeatureCache(capacity: options.imageCacheEntries)
        stats.deviceHeapBytes = decoder.model.device.heapBytes
        stats.deviceBytesInUse = decoder.model.device.bytesInUse
        try decoder.recordGreedySteps()
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "fastvlm-engine"
        self.thread = thread
        thread.start()
    }

    func submit(_ job: EngineJob) {
        condition.lock()
        defer { condition.unlock() }
        if stopped { return job.continuation.finish(throwing: EngineError(.shutdown, "the engine has stopped")) }
        // Free slots take requests beyond the queue limit: they wait only until the next step.
        guard waiting.count < options.queueLimit + max(0, decoder.slotCount - stats.active) else {
            return job.continuation.finish(throwing: EngineError(.queueFull, "\(waiting.count) requests are already waiting; try again later"))
        }
        waiting.append(job)
        stats.waiting = waiting.count
        condition.signal()
    }

    var statistics: EngineStatistics { condition.withLock { stats } }

    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    // MARK: the loop

    private func loop() {
        while true {
            condition.lock()
            while !stopped && waiting.isEmpty && active.isEmpty { condition.wait() }
            if stopped {
                let queued = waiting
                waiting = []
                condition.unlock()
                for job in queued + active { job.continuation.finish(throwing: EngineError(.shutdown, "the engine has stopped")) }
                active = []
                return
            }
            var admitted: EngineJob?
            if !freeSlots.isEmpty, !waiting.isEmpty { admitted = waiting.removeFirst() }
            stats.waiting = waiting.count
            stats.active = active.count + (admitted == nil ? 0 : 1)
            condition.unlock()

            dropFinishedCallers()
            if let job = admitted { admit(job) }
            decodeStep()
            condition.withLock {
                stats.active = active.count
                stats.deviceBytesInUse = decoder.model.device.bytesInUse
            }
        }
    }

    private func dropFinishedCallers() {
        let now = DispatchTime.now().uptimeNanoseconds
        for job in active where job.isCancelled || now > job.deadline {
            if !job.isCancelled { job.continuation.finish(throwing: EngineError(.timeout, "the request took longer than \(options.timeoutSeconds) s")) }
            release(job)
        }
    }

    private func release(_ job: EngineJob) {
        active.removeAll { $0 === job }
        if job.slot >= 0 { freeSlots.append(job.slot); freeSlots.sort() }
        job.slot = -1
    }

    // MARK: admission

    private func admit(_ job: EngineJob) {
        guard !job.isCancelled else { return }
        guard DispatchTime.now().uptimeNanoseconds <= job.deadline else {
            return job.continuation.finish(throwing: EngineError(.timeout, "the request waited longer than \(options.timeoutSeconds) s"))
        }
        do {
            let prompt = try ConversationPrompt.splice(job.request, pipeline: pipeline)
            let image = try job.request.image.map { try imageKey(of: $0, request: job.request) }
            let first = try prefill(prompt, image: image, sampling: job.request.sampling, rng: &job.rng)
            job.slot = freeSlots.removeFirst()
            try decoder.take(prefilledPositions: prompt.count, into: job.slot)
            job.promptTokens = prompt.count
            job.position = prompt.count
            job.decoder = StreamingDecoder(tokenizer: pipeline.tokenizer)
            active.append(job)
            condition.withLock { stats.prefilledTokens += prompt.count }
            job.continuation.yield(.started(promptTokens: prompt.count))
            accept(first, for: job)
        } catch let error as EngineError {
            release(job)
            job.continuation.finish(throwing: error)
        } catch let error as ImageError {
            release(job)
            job.continuation.finish(throwing: EngineError(.badImage, error.description))
        } catch {
            release(job)
            job.continuation.finish(throwing: EngineError(.failed, "\(error)"))
        }
    }

    /// Puts the image's projected rows into `imageRows` (from the cache, else the encoder) and
    /// returns its cache key.
    private func imageKey(of data: Data, request: ChatRequest) throws -> String {
        let mode = request.preprocess ?? (pipeline.model.config.layout == .apple ? .apple : .hf)
        let key = ImageFeatureCache.key(data, size: pipeline.imageSize, mode: mode)
        let rows: [Float]
        if let cached = images.rows(for: key) {
            rows = cached
            condition.withLock { stats.imageCacheHits += 1 }
        } else {
            let pixels = try Preprocess.pixels(data: data, name: "image", size: pipeline.imageSize, mode: mode)
            var timings = Timings()
            do { rows = try pipeline.encodeImage(pixels, timings: &timings, dump: nil).hostValues() } catch let error as CheckpointError {
                throw EngineError(.badImage, error.description)
            }
            images.insert(rows, for: key)
            condition.withLock { stats.visionEncoderRuns += 1 }
        }
        try rows.withUnsafeBytes { try decoder.model.device.write($0, to: imageRows.view) }
        return key
    }

    /// Prefills `prompt` in the model's own cache, continuing after the longest prefix it
    /// already holds from the last prompt when that prefix covers the same image (or none).
    private func prefill(_ prompt: SplicedPrompt, image: String?, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int {
        let model = decoder.model
        var common = 0
        if staged.image == image {
            let limit = min(staged.prompt.count, prompt.count - 1, model.length)
            while common < limit, staged.prompt[common] == prompt.slots[common] { common += 1 }
        }
        let rest = Array(prompt.slots[common...])
        if common > 0 && rest.contains(where: { $0 == nil }) { common = 0 }
        staged = ([], nil)
        if common > 0 { try model.truncate(to: common) } else { model.reset() }
        let first = try model.prefill(SplicedPrompt(slots: Array(prompt.slots[common...])), image: imageRows.view, sampling: sampling, rng: &rng)
        staged = (prompt.slots, image)
        condition.withLock { stats.reusedPrefixTokens += common }
        return first
    }

    // MARK: decoding

    /// Takes `token`, sampled for the job's position: ends the answer on a stop token, a stop
    /// string, the token limit or a full slot; otherwise it is fed at the next step.
    private func accept(_ token: Int, for job: EngineJob) {
        if pipeline.stopTokens.contains(token) { return finish(job, .stop) }
        job.generated += 1
        condition.withLock { stats.generatedTokens += 1 }
        if job.deliver(job.decoder!.append(token)) { return finish(job, .stop, flush: false) }
        if job.generated >= job.request.maxTokens || job.position >= decoder.capacity { return finish(job, .length) }
        job.next = token
    }

    private func finish(_ job: EngineJob, _ reason: FinishReason, flush: Bool = true) {
        var reason = reason
        if flush, job.deliver(job.decoder?.finish() ?? "", final: true) { reason = .stop }
        job.continuation.yield(.finished(reason, promptTokens: job.promptTokens, completionTokens: job.generated))
        job.continuation.finish()
        release(job)
    }

    /// Moves active requests down into the lowest slots (in slot order), so every step of M
    /// rows replays one of the M-row recordings made at load time.
    private func compactSlots() throws {
        active.sort { $0.slot < $1.slot }
        for (i, job) in active.enumerated() where job.slot != i {
            try decoder.move(job.position, from: job.slot, to: i)
            job.slot = i
        }
        freeSlots = Array(active.count..<decoder.slotCount)
    }

    private func decodeStep() {
        guard !active.isEmpty else { return }
        do { try compactSlots() } catch {
            return failAll("moving a request between slots failed: \(error)")
        }
        let jobs = active
        let rows = jobs.map { job in
            BatchedDecoder.Row(slot: job.slot, token: job.next, position: job.position, sampling: job.request.sampling,
                               draw: job.request.sampling.isGreedy ? 0 : job.rng.nextUnit())
        }
        do {
            let chosen = try decoder.step(rows)
            condition.withLock { stats.decodeSteps += 1 }
            for (job, token) in zip(jobs, chosen) {
                job.position += 1
                accept(token, for: job)
            }
        } catch {
            failAll("decoding failed: \(error)")
        }
    }

    private func failAll(_ message: String) {
        for job in active {
            job.continuation.finish(throwing: EngineError(.failed, message))
            release(job)
        }
    }
}
