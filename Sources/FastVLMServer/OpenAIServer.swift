import FastVLM
import Foundation
import Hummingbird
import NIOCore

/// The OpenAI-compatible HTTP API over one `FastVLMEngine`: POST /v1/chat/completions (plain
/// or server-sent events), GET /v1/models, /health and /metrics. The server listens at once
/// and answers 503 until the engine has loaded. It keeps nothing between requests: any number
/// of identical replicas can sit behind a load balancer.
public final class OpenAIServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    private let metrics = ServerMetrics()
    private let lock = NSLock()
    private var state: State = .loading

    private enum State {
        case loading
        case ready(FastVLMEngine)
        case failed(String)
    }

    public init(configuration: ServerConfiguration) { self.configuration = configuration }

    /// Loads the engine on a thread of its own (`load` blocks), serving 503 meanwhile.
    public func startLoading(_ load: @escaping @Sendable () throws -> FastVLMEngine) {
        let thread = Thread { [self] in
            do {
                let engine = try load()
                lock.withLock { state = .ready(engine) }
            } catch {
                lock.withLock { state = .failed("\(error)") }
                FileHandle.standardError.write(Data("error: the model failed to load: \(error)\n".utf8))
            }
        }
        thread.start()
    }

    /// Serves until the process is told to stop (SIGINT, SIGTERM). `onListening` gets the port
    /// (the real one when the configuration asked for 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let router = Router()
        router.get("/health") { _, _ in self.health() }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: self.metrics.render(self.engine?.statistics))))
        }
        router.get("/v1/models") { request, _ in
            if let denied = self.checkKey(request) { return denied.response }
            return JSONResponse.make(["object": "list", "data": [["id": self.configuration.modelID, "object": "model", "created": 0, "owned_by": "fastvlm-gpu"]]])
        }
        router.post("/v1/chat/completions") { request, _ in
            let start = DispatchTime.now().uptimeNanoseconds
            let response: Response
            // A client that disconnects before a plain answer is done cancels it (its slot is
            // freed at the next step); a streamed answer notices when a write fails.
            do {
                response = try await request.body.consumeWithCancellationOnInboundClose { body in
                    try await self.chatCompletion(request, body: body, start: start)
                }
            } catch let error as OpenAIError {
                response = error.response
            } catch is CancellationError {
                response = OpenAIError.clientGone.response
            } catch {
                response = OpenAIError.server("\(error)").response
            }
            self.metrics.request(status: response.status.code)
            return response
        }
        let app = Application(router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fastvlm-gpu"),
                              onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) })
        try await app.runService()
        engine?.stop()
    }

    private var engine: FastVLMEngine? {
        lock.withLock { if case .ready(let e) = state { return e } else { return nil } }
    }

    private func health() -> Response {
        switch lock.withLock({ state }) {
        case .ready: return JSONResponse.make(["status": "ok"])
        case .loading: return JSONResponse.make(["status": "loading"], status: .serviceUnavailable)
        case .failed(let why): return JSONResponse.make(["status": "failed", "error": why], status: .internalServerError)
        }
    }

    private func checkKey(_ request: Request) -> OpenAIError? {
        guard let key = configuration.apiKey else { return nil }
        return request.headers[.authorization] == "Bearer \(key)" ? nil : .unauthorized
    }

    private func readyEngine() throws -> FastVLMEngine {
        switch lock.withLock({ state }) {
        case .ready(let e): return e
        case .loading: throw OpenAIError.loading("the model is still loading; try again shortly")
        case .failed(let why): throw OpenAIError.server("the model failed to load: \(why)")
        }
    }

    // MARK: chat completions

    private func chatCompletion(_ request: Request, body requestBody: RequestBody, start: UInt64) async throws -> Response {
        if let denied = checkKey(request) { throw denied }
        let engine = try readyEngine()
        let body: ByteBuffer
        do { body = try await requestBody.collect(upTo: configuration.maxBodyBytes) } catch is NIOTooManyBytesError {
            throw OpenAIError.tooLarge("the request body is above the limit of \(configuration.maxBodyBytes) bytes")
        }
        var parsed = try ChatCompletionRequest(json: Data(buffer: body), configuration: configuration)
        if let url = parsed.imageURL { parsed.chat.image = try await MediaLoader.load(url, configuration: configuration) }

        // Headers wait for the prompt to be in the cache, so a refusal still gets its status.
        var events = engine.answer(parsed.chat).makeAsyncIterator()
        do {
            guard case .started? = try await events.next() else {
                throw Task.isCancelled ? OpenAIError.clientGone : OpenAIError.server("the answer ended before it started")
            }
        } catch let error as EngineError {
            throw OpenAIError(error)
        }
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created = Int(Date().timeIntervalSince1970)
        let timing = AnswerTiming(start: start, metrics: metrics)
        if parsed.stream {
            return streamResponse(events: events, id: id, created: created, includeUsage: parsed.includeUsage, timing: timing)
        }
        var text = ""
        do {
            while let event = try await events.next() {
                switch event {
                case .started: break
                case .text(let piece):
                    timing.sawText()
                    text += piece
                case .finished(let reason, let prompt, let completion):
                    timing.finished(tokens: completion)
                    return JSONResponse.make([
                        "id": id, "object": "chat.completion", "created": created, "model": configuration.modelID,
                        "choices": [["index": 0, "message": ["role": "assistant", "content": text.trimmingCharacters(in: .whitespacesAndNewlines)],
                                     "finish_reason": reason.rawValue]],
                        "usage": ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion],
                    ])
                }
            }
        } catch let error as EngineError {
            throw OpenAIError(error)
        }
        if Task.isCancelled { throw OpenAIError.clientGone }
        throw OpenAIError.server("the answer ended without finishing")
    }

    /// OpenAI's chunk stream: a first chunk with the role, one per text piece, one with the
    /// finish reason, optionally one with the usage, then `[DONE]`. A failure after the headers
    /// goes out as an `error` event. A client that goes away ends the iteration, which frees
    /// the request's slot.
    private func streamResponse(events: AsyncThrowingStream<ChatEvent, Error>.AsyncIterator, id: String, created: Int, includeUsage: Bool,
                                timing: AnswerTiming) -> Response {
        let model = configuration.modelID
        let box = IteratorBox(events)
        let body = ResponseBody { writer in
            func send(_ object: Any) async throws {
                var buffer = ByteBuffer(string: "data: ")
                buffer.writeBytes(JSONResponse.data(object))
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
            func chunk(_ delta: [String: Any], finish: String? = nil) -> [String: Any] {
                ["id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [["index": 0, "delta": delta, "finish_reason": finish.map { $0 as Any } ?? NSNull()]]]
            }
            try await send(chunk(["role": "assistant", "content": ""]))
            do {
                while let event = try await box.iterator.next() {
                    switch event {
                    case .started: break
                    case .text(let piece):
                        timing.sawText()
                        try await send(chunk(["content": piece]))
                    case .finished(let reason, let prompt, let completion):
                        timing.finished(tokens: completion)
                        try await send(chunk([:], finish: reason.rawValue))
                        if includeUsage {
                            try await send(["id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [Any](),
                                            "usage": ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]])
                        }
                    }
                }
            } catch let error as EngineError {
                try await send(OpenAIError(error).json)
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// Hands the iterator to the response body's closure (which must be Sendable); only that
/// closure uses it from then on.
private final class IteratorBox: @unchecked Sendable {
    var iterator: AsyncThrowingStream<ChatEvent, Error>.AsyncIterator
    init(_ iterator: AsyncThrowingStream<ChatEvent, Error>.AsyncIterator) { self.iterator = iterator }
}

/// Time to first token and decode speed of one answer, recorded into the metrics.
private final class AnswerTiming: @unchecked Sendable {
    let start: UInt64
    let metrics: ServerMetrics
    private var first: UInt64?

    init(start: UInt64, metrics: ServerMetrics) {
        self.start = start
        self.metrics = metrics
    }

    func sawText() {
        guard first == nil else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        first = now
        metrics.firstToken(after: Double(now - start) / 1e9)
    }

    func finished(tokens: Int) {
        guard let first else { return }
        metrics.finished(tokens: tokens, decodeSeconds: Double(DispatchTime.now().uptimeNanoseconds - first) / 1e9)
    }
}
