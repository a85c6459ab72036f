import ArgumentParser
import FastVLM
import Foundation
import Ops

/// Options shared by the commands that run the model.
struct ModelRunOptions: ParsableArguments {
    @Option(help: ArgumentHelp(ModelArgument.help))
    var model: String = ModelArgument.defaultModel

    @Option(help: "Image file (PNG or JPEG).")
    var image: String?

    @Option(help: "The question about the image.")
    var prompt: String

    @Option(help: "Where the model runs: cpu (the fp32 reference) or gpu.")
    var backend: Backend = .cpu

    @Option(help: "Most tokens to generate.")
    var maxTokens = 256

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Keep only the K most likely tokens (0: all).")
    var topK = 0

    @Option(help: "Nucleus sampling: keep the most likely tokens up to this total probability.")
    var topP: Float = 1

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "System prompt.")
    var system: String = ChatPrompt.defaultSystem

    @Option(help: "Image preprocessing: apple (pad to square) or hf (resize and centre crop). Default: the checkpoint's own.")
    var preprocess: PreprocessMode?

    @Option(help: "A float32 .npy of shape [1,3,S,S] used instead of the image preprocessing.")
    var pixelValues: String?

    @Option(help: "Write pixel_values.npy, vision_features.npy, projector_out.npy and logits_last.npy here.")
    var dump: String?

    enum Backend: String, ExpressibleByArgument, CaseIterable { case cpu, gpu }

    func validate() throws {
        guard image != nil || pixelValues != nil else { throw ValidationError("give --image FILE or --pixel-values FILE.npy") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
    }

    var request: GenerationRequest {
        var r = GenerationRequest(prompt: prompt)
        r.system = system
        r.image = image.map { URL(fileURLWithPath: $0) }
        r.pixelValues = pixelValues.map { URL(fileURLWithPath: $0) }
        r.preprocess = preprocess
        r.maxTokens = maxTokens
        r.sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed)
        r.dump = dump.map { URL(fileURLWithPath: $0) }
        return r
    }

    /// The local folder `--model` names, downloaded first when it is a repo id not in the cache.
    var modelFolder: URL {
        get throws { try ModelArgument.folder(model) }
    }
}

extension PreprocessMode: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Answer a question about an image.")

    @OptionGroup var options: ModelRunOptions

    @Flag(help: "Print one JSON object (text, token_ids, prompt_tokens, timings) at the end instead of streaming.")
    var json = false

    func run() throws {
        if options.backend == .gpu {
            throw ValidationError("the GPU backend is not wired into `run` yet; use --backend cpu (the GPU kernels are exercised by `swift test` and `bench ops`)")
        }
        let folder = try options.modelFolder
        let pipeline = try FastVLMPipeline(folder: folder)
        let result = try pipeline.generate(options.request) { text in
            if !json { FileHandle.standardOutput.write(Data(text.utf8)) }
        }
        if json {
            struct Output: Encodable {
                let text: String
                let token_ids: [Int]
                let prompt_tokens: Int
                let timings: Timings
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(Output(text: result.text, token_ids: result.tokenIDs, prompt_tokens: result.promptTokens, timings: result.timings)), as: UTF8.self))
        } else {
            print()
            let t = result.timings
            FileHandle.standardError.write(Data(String(format: "load %.2fs | preprocess %.3fs | vision %.3fs | projector %.3fs | prefill %.3fs (%d tokens) | TTFT %.3fs | decode %d tokens at %.2f tok/s\n",
                                                       t.load, t.preprocess, t.vision, t.projector, t.prefill, result.promptTokens, t.ttft, result.tokenIDs.count, t.decodeTokensPerSecond).utf8))
        }
    }
}
