import ArgumentParser
import FastVLM
import Foundation

/// `--model`: a local model folder or a Hugging Face repo id, resolved to a folder on disk.
enum ModelArgument {
    static let defaultModel = "apple/FastVLM-0.5B"

    static let help = """
        A model folder (Apple llava_qwen2 or transformers fast_vlm layout) or a Hugging Face repo id, \
        downloaded on first use into the Hugging Face cache (HF_HOME, HF_HUB_CACHE, HF_TOKEN, \
        HF_HUB_OFFLINE=1 apply).
        """

    /// The folder `spec` names, downloading a repo's snapshot with a progress bar on stderr when
    /// it is not cached. With `needsConfig`, a folder without config.json is refused here, with
    /// a message that says what a model folder holds.
    static func folder(_ spec: String, needsConfig: Bool = true,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if SyntheticModel.parse(spec) != nil {
            throw CLIError("--model \(spec) is a synthetic model (random weights, no tokenizer) for benchmarks; "
                + "this command needs a real model: a local folder or a repo id such as \(defaultModel)")
        }
        let pathLike = spec.hasPrefix("/") || spec.hasPrefix("./") || spec.hasPrefix("../") || spec.hasPrefix("~")
        if pathLike && !FileManager.default.fileExists(atPath: spec) {
            throw CLIError("model folder '\(spec)' does not exist. Pass an existing model folder, "
                + "or a Hugging Face repo id such as \(defaultModel) to download one.")
        }
        let bar = HubProgressBar()
        defer { bar.finish() }
        let folder = try ModelLocator.resolve(spec, environment: environment, progress: bar.handler)
        if needsConfig && !FileManager.default.fileExists(atPath: folder.appending(path: "config.json").path) {
            throw CLIError("model folder '\(spec)' has no config.json, so it is not a FastVLM model. A model folder holds "
                + "config.json, the *.safetensors weights and the tokenizer files, as in a download of \(defaultModel).")
        }
        return folder
    }
}

extension WeightChoice: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { names }
}
