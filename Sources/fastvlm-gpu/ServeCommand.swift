import ArgumentParser
import FastVLM
import FastVLMServer
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over an OpenAI-compatible HTTP API (POST /v1/chat/completions, GET /v1/models, /health, /metrics).",
        discussion: "Concurrent requests are decoded together in one batched GPU step. Binds to 127.0.0.1 unless --host says otherwise; with --api-key (or FASTVLM_API_KEY) every /v1 request needs 'Authorization: Bearer KEY'.")

    @Option(help: ArgumentHelp(ModelArgument.help))
    var model: String = ModelArgument.defaultModel

    @Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: a free one, printed once listening).")
    var port = 8080

    @Option(help: "Bearer token every /v1 request must carry (default: FASTVLM_API_KEY, else none).")
    var apiKey: String?

    @Option(help: "Folder whose images requests may name by local path (default: local paths refused).")
    var allowedLocalMedia: String?

    @Option(help: "Requests decoded together, each with its own KV cache (1 to 8).")
    var slots = 4

    @Option(help: "Requests that may wait for a slot; more are answered 429.")
    var queue = 64

    @Option(help: "Positions per request (prompt + answer; each slot's KV cache holds this many; at most the model's context).")
    var context = 2048

    @Option(help: "Seconds a request may take before it fails with 504.")
    var timeout: Double = 600

    @Option(help: "Largest request body in MiB (images come base64-encoded inside it).")
    var maxBodyMib = 32

    @Option(help: "Answer tokens when a request gives no max_tokens.")
    var defaultMaxTokens = 256

    @OptionGroup var runtime: RuntimeArguments

    func validate() throws {
        guard (1...8).contains(slots) else { throw ValidationError("--slots must be 1 to 8") }
        guard queue >= 0 else { throw ValidationError("--queue must be >= 0") }
        guard context >= 1 else { throw ValidationError("--context must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard maxBodyMib >= 1, defaultMaxTokens >= 1 else { throw ValidationError("--max-body-mib and --default-max-tokens must be at least 1") }
        if let allowedLocalMedia {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: allowedLocalMedia, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--allowed-local-media \(allowedLocalMedia) is not a folder")
            }
        }
    }

    func run() throws {
        let folder = try ModelArgument.folder(model)
        var config = ServerConfiguration(modelID: model)
        config.host = host
        config.port = port
        config.apiKey = apiKey ?? ProcessInfo.processInfo.environment["FASTVLM_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        config.allowedLocalMedia = allowedLocalMedia.map { URL(fileURLWithPath: $0) }
        config.maxBodyBytes = maxBodyMib << 20
        config.defaultMaxTokens = defaultMaxTokens
        var options = EngineOptions()
        options.slots = slots
        options.queueLimit = queue
        options.timeoutSeconds = timeout
        var runtimeOptions = runtime.runtime()
        runtimeOptions.contextTokens = context
        let (engineOptions, engineRuntime) = (options, runtimeOptions)
        let server = OpenAIServer(configuration: config)
        server.startLoading {
            let engine = try FastVLMEngine(folder: folder, runtime: engineRuntime, options: engineOptions) { step in
                FileHandle.standardError.write(Data("loading: \(step)\n".utf8))
            }
            FileHandle.standardError.write(Data("ready: \(engine.pipeline.backendDescription), \(engineOptions.slots) slots of \(engine.pipeline.contextTokens) positions\n".utf8))
            return engine
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        Task {
            do {
                try await server.run { port in
                    print("listening on http://\(host):\(port)")
                    fflush(stdout)
                }
            } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw CLIError("the server stopped: \(failure)") }
    }
}
