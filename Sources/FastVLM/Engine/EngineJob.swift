import Foundation
import Ops

/// One request inside the engine: its stream back to the caller, and the decoding state the
/// engine's thread keeps for it while it holds a slot.
final class EngineJob: @unchecked Sendable {
    let request: ChatRequest
    let continuation: AsyncThrowingStream<ChatEvent, Error>.Continuation
    /// DispatchTime nanoseconds after which the request fails with `timeout`.
    let deadline: UInt64
    private let lock = NSLock()
    private var cancelled = false

    // Engine thread only.
    var slot = -1
    var promptTokens = 0
    /// The position the next fed token takes.
    var position = 0
    /// The sampled token not yet fed to the cache.
    var next = 0
    var generated = 0
    var rng: SplitMix64
    var decoder: StreamingDecoder?
    /// Text decoded but held back because it could be the start of a stop string.
    private var pending = ""
    private let holdBack: Int

    init(request: ChatRequest, continuation: AsyncThrowingStream<ChatEvent, Error>.Continuation, deadline: UInt64) {
        self.request = request
        self.continuation = continuation
        self.deadline = deadline
        rng = SplitMix64(seed: request.sampling.seed)
        holdBack = max(0, (request.stop.map(\.count).max() ?? 0) - 1)
    }

    /// The caller went away (stream ended or its task cancelled).
    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }

    /// Adds decoded text and sends what can no longer be part of a stop string. Returns true
    /// when a stop string appeared (the text before it has been sent; the answer is over).
    func deliver(_ piece: String, final: Bool = false) -> Bool {
        pending += piece
        let stops = request.stop.filter { !$0.isEmpty }
        if let hit = stops.compactMap({ pending.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            send(String(pending[..<hit.lowerBound]))
            pending = ""
            return true
        }
        let ready = final ? pending.count : max(0, pending.count - holdBack)
        if ready > 0 {
            send(String(pending.prefix(ready)))
            pending.removeFirst(ready)
        }
        return false
    }

    private func send(_ text: String) {
        if !text.isEmpty { continuation.yield(.text(text)) }
    }
}
