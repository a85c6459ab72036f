import ArgumentParser
import FastVLM
import Foundation
import Ops

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk about one image over several turns; the conversation and its KV cache are kept between turns.",
        discussion: "Type a question and press Enter. An empty line or end of input (Ctrl-D) ends the chat; /reset starts over with the same image.")

    @Option(help: ArgumentHelp(ModelArgument.help))
    var model: String = ModelArgument.defaultModel

    @Option(help: "Image file (PNG or JPEG).")
    var image: String

    @Option(help: "Where the model runs: gpu or cpu.")
    var backend: RuntimeOptions.Backend = .gpu

    @Option(help: "GPU weight storage: f16 or f32.")
    var weights: StorageType = .f16

    @Option(help: "Vulkan device index.")
    var device: Int?

    @Option(help: "Most tokens per answer.")
    var maxTokens = 256

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "System prompt.")
    var system: String = ChatPrompt.defaultSystem

    func run() throws {
        var runtime = RuntimeOptions()
        runtime.backend = backend
        runtime.weightType = weights
        runtime.deviceIndex = device
        let folder = try ModelArgument.folder(model)
        let pipeline = try FastVLMPipeline(folder: folder, runtime: runtime) { step in
            FileHandle.standardError.write(Data("loading: \(step)\n".utf8))
        }
        var request = GenerationRequest(prompt: "")
        request.image = URL(fileURLWithPath: image)
        request.system = system
        request.maxTokens = maxTokens
        request.sampling = SamplingParameters(temperature: temperature, seed: seed)
        _ = try ImageFile.load(request.image!)   // a bad image fails now, not after the first question
        var session = ChatSession(pipeline: pipeline, image: request)
        while true {
            FileHandle.standardError.write(Data("> ".utf8))
            guard let line = readLine(), !line.trimmingCharacters(in: .whitespaces).isEmpty else { break }
            if line == "/reset" {
                session = ChatSession(pipeline: pipeline, image: request)
                continue
            }
            do {
                let result = try session.ask(line) { FileHandle.standardOutput.write(Data($0.utf8)) }
                print()
                let t = result.timings
                FileHandle.standardError.write(Data(String(format: "[%d prompt tokens, TTFT %.3fs, %d tokens at %.2f tok/s, %d in context]\n",
                                                           result.promptTokens, t.ttft, result.tokenIDs.count, t.decodeTokensPerSecond, session.length).utf8))
            } catch {
                // A turn that does not fit the context ends nothing else: say so and go on.
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
    }
}
