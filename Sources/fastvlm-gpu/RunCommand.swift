import ArgumentParser
import FastVLM
import Foundation
import Ops
import VulkanCore

/// Where the model runs: shared by run, profile, chat.
struct RuntimeArguments: ParsableArguments {
    @Option(help: "Where the model runs: gpu (Vulkan) or cpu (the fp32 reference, slow).")
    var backend: RuntimeOptions.Backend = .gpu

    @Option(help: ArgumentHelp("GPU weight format: auto (default: the most accurate that fits the device), f32, f16, bf16, q8 or q4.",
                               discussion: "bf16 keeps a bf16 checkpoint exactly; q8 is 8-bit with a scale per 32 values, q4 4-bit with a scale and minimum per 64. The vision tower stays 16-bit. Arithmetic is fp32 either way."))
    var weights: WeightChoice = .auto

    @Option(help: "GPU activation storage in the vision encoder: f16 or f32 (default: f16 where the device has 16-bit storage).")
    var activations: StorageType?

    @Option(help: "GPU storage of the language model's activation rows and KV cache: f32 or f16; the residual stream stays f32 (default: the kernel policy's, f16 under gpu kernels with shaderFloat16 and 16-bit storage).")
    var decoderStorage: StorageType?

    @Option(help: "Vulkan device index from `fastvlm-gpu devices` (default: FASTVLM_DEVICE, else the best GPU).")
    var device: Int?

    @Option(help: "Kernel family: auto (from the device type), gpu or cpu (default: FASTVLM_KERNELS, else auto).")
    var kernels: KernelChoice?

    @Option(help: "Vision encoder input side N, a multiple of 64 from 64 to 4096: (N/64)^2 image tokens (default: the checkpoint's, 1024 for the released models).")
    var imageSize: Int?

    func validate() throws {
        if let imageSize {
            do { try ImageSize.check(imageSize) } catch { throw ValidationError("--image-size: \(error)") }
        }
    }

    func runtime(profiling: Bool = false) -> RuntimeOptions {
        var r = RuntimeOptions()
        r.backend = backend
        r.weights = weights
        r.activationType = activations
        r.decoderActivations = decoderStorage
        r.kvCache = decoderStorage
        r.deviceIndex = device
        r.kernels = kernels
        r.imageSize = imageSize
        r.profiling = profiling
        return r
    }
}

/// How answers are generated: shared by run, profile, chat.
struct GenerationArguments: ParsableArguments {
    @Option(help: "Most tokens to generate (per answer).")
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

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
    }

    /// A request carrying these settings.
    func request(prompt: String) -> GenerationRequest {
        var r = GenerationRequest(prompt: prompt)
        r.system = system
        r.maxTokens = maxTokens
        r.sampling = SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed)
        return r
    }
}

/// Options of the commands that answer one question (run, profile).
struct ModelRunOptions: ParsableArguments {
    @Option(help: ArgumentHelp(ModelArgument.help))
    var model: String = ModelArgument.defaultModel

    @Option(help: "Image file (PNG or JPEG).")
    var image: String?

    @Option(help: "The question about the image.")
    var prompt: String

    @OptionGroup var runtime: RuntimeArguments
    @OptionGroup var generation: GenerationArguments

    @Option(help: "Image preprocessing: apple (pad to square) or hf (resize and centre crop). Default: the checkpoint's own.")
    var preprocess: PreprocessMode?

    @Option(help: "A float32 .npy of shape [1,3,S,S] used instead of the image preprocessing.")
    var pixelValues: String?

    @Option(help: "Write pixel_values.npy, vision_features.npy, projector_out.npy, logits_last.npy and token_ids.json here.")
    var dump: String?

    @Option(help: ArgumentHelp("Teacher forcing: comma-separated token ids fed as the answer; the output ids are the model's choice after each prefix.",
                               visibility: .hidden))
    var forceTokens: String?

    func validate() throws {
        guard image != nil || pixelValues != nil else { throw ValidationError("give --image FILE or --pixel-values FILE.npy") }
        if let forceTokens {
            guard let ids = Self.ids(forceTokens), !ids.isEmpty else { throw ValidationError("--force-tokens must be comma-separated token ids") }
            guard ids.count <= generation.maxTokens else { throw ValidationError("--force-tokens gives \(ids.count) tokens, more than --max-tokens \(generation.maxTokens)") }
        }
    }

    static func ids(_ text: String) -> [Int]? {
        let ids = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return ids.contains(nil) ? nil : ids.map { $0! }.filter { $0 >= 0 }.count == ids.count ? ids.map { $0! } : nil
    }

    var request: GenerationRequest {
        var r = generation.request(prompt: prompt)
        r.image = image.map { URL(fileURLWithPath: $0) }
        r.pixelValues = pixelValues.map { URL(fileURLWithPath: $0) }
        r.preprocess = preprocess
        r.dump = dump.map { URL(fileURLWithPath: $0) }
        r.forcedTokens = forceTokens.flatMap(Self.ids)
        return r
    }

    /// The local folder `--model` names, downloaded first when it is a repo id not in the cache.
    var modelFolder: URL {
        get throws { try ModelArgument.folder(model) }
    }
}

extension PreprocessMode: ExpressibleByArgument {}
extension RuntimeOptions.Backend: ExpressibleByArgument {}
extension StorageType: ExpressibleByArgument {}
extension KernelChoice: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Answer a question about an image.")

    @OptionGroup var options: ModelRunOptions

    @Flag(help: "Print one JSON object (text, token_ids, prompt_tokens, timings) at the end instead of streaming.")
    var json = false

    func run() throws {
        let result = try RunCommand.generate(options, profiling: false, streaming: !json)
        if json {
            print(try RunCommand.json(result))
        } else {
            RunCommand.printSummary(result)
        }
    }

    /// Loads the model (with a progress line on stderr) and runs one request.
    static func generate(_ options: ModelRunOptions, profiling: Bool, streaming: Bool) throws -> GenerationResult {
        // A bad image fails now, not after loading the model.
        if let image = options.image { _ = try ImageFile.header(URL(fileURLWithPath: image)) }
        let folder = try options.modelFolder
        let pipeline = try FastVLMPipeline(folder: folder, runtime: options.runtime.runtime(profiling: profiling), sizedFor: options.request) { step in
            if streaming && isatty(2) != 0 { FileHandle.standardError.write(Data("\u{1B}[2K\rloading: \(step)...".utf8)) }
        }
        if streaming { FileHandle.standardError.write(Data(((isatty(2) != 0 ? "\u{1B}[2K\r" : "") + String(format: "loaded in %.2fs", pipeline.loadSeconds) + " (\(pipeline.backendDescription))\n").utf8)) }
        let result = try pipeline.generate(options.request) { text in
            if streaming { FileHandle.standardOutput.write(Data(text.utf8)) }
        }
        if streaming { FileHandle.standardOutput.write(Data("\n".utf8)) }
        return result
    }

    static func json(_ result: GenerationResult) throws -> String {
        struct Output: Encodable {
            let text: String
            let token_ids: [Int]
            let prompt_tokens: Int
            let timings: Timings
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(Output(text: result.text, token_ids: result.tokenIDs, prompt_tokens: result.promptTokens, timings: result.timings)), as: UTF8.self)
    }

    static func printSummary(_ result: GenerationResult) {
        let t = result.timings
        var line = String(format: "load %.2fs | preprocess %.3fs | vision %.3fs | projector %.3fs | prefill %.3fs (%d tokens) | TTFT %.3fs | decode %d tokens at %.2f tok/s",
                          t.load, t.preprocess, t.vision, t.projector, t.prefill, result.promptTokens, t.ttft, result.tokenIDs.count, t.decodeTokensPerSecond)
        if t.peakDeviceBytes > 0 { line += String(format: " | peak device memory %.1f MiB", Double(t.peakDeviceBytes) / 1048576) }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
