import Foundation

/// Turns `--model` into a local folder: an existing folder is used as is, anything else must be
/// a Hugging Face repo id (`owner/name`) whose `main` snapshot is found in, or downloaded into,
/// the standard Hugging Face cache (shared with huggingface_hub / huggingface-cli).
public enum ModelLocator {
    /// The revision that is resolved and recorded in `refs/`.
    public static let revision = "main"

    /// Exact top-level file names FastVLM reads (besides `*.safetensors`).
    public static let wantedFileNames: Set<String> = [
        "config.json", "model.safetensors.index.json",
        "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
        "added_tokens.json", "special_tokens_map.json",
        "preprocessor_config.json", "processor_config.json",
        "generation_config.json", "chat_template.json",
    ]

    /// Whether a repository file is one FastVLM needs: the names above or any top-level `*.safetensors`.
    public static func isWanted(_ file: String) -> Bool {
        guard !file.contains("/") else { return false }
        return wantedFileNames.contains(file) || file.hasSuffix(".safetensors")
    }

    /// Resolves `spec` with settings from the process environment (HF_ENDPOINT, HF_HUB_CACHE,
    /// HF_HOME, HF_TOKEN, HF_HUB_OFFLINE). Blocks while downloading.
    ///
    /// - Parameters:
    ///   - spec: a local model folder, or a repo id such as `apple/FastVLM-0.5B`.
    ///   - environment: the variables to read (tests pass their own).
    ///   - progress: called from a background thread while files download; see `HubProgressBar`.
    /// - Returns: the folder holding config.json, the weights and the tokenizer files.
    public static func resolve(_ spec: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               progress: ((HubProgress) -> Void)? = nil) throws -> URL {
        if let local = try localFolder(spec) { return local }
        let repo = try repoID(spec)
        let configuration = try HubConfiguration(environment: environment)
        return try snapshot(repo, configuration: configuration, progress: progress)
    }

    /// Same as `resolve(_:environment:progress:)` with explicit settings.
    public static func resolve(_ spec: String, configuration: HubConfiguration,
                               progress: ((HubProgress) -> Void)? = nil) throws -> URL {
        if let local = try localFolder(spec) { return local }
        return try snapshot(try repoID(spec), configuration: configuration, progress: progress)
    }

    /// The `main` snapshot folder of `repo`, downloading what is missing (unless offline).
    public static func snapshot(_ repo: HubRepoID, configuration: HubConfiguration,
                                progress: ((HubProgress) -> Void)? = nil) throws -> URL {
        let downloader = HubSnapshotDownloader(repo: repo, revision: revision, configuration: configuration,
                                               progress: progress)
        return try downloader.snapshot()
    }

    /// The existing folder `spec` names, nil when nothing exists there.
    private static func localFolder(_ spec: String) throws -> URL? {
        guard !spec.isEmpty else {
            throw HubError.invalidModelSpec(spec: spec, reason: "it is empty")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec, isDirectory: &isFolder) else { return nil }
        guard isFolder.boolValue else { throw HubError.notAFolder(path: spec) }
        return URL(fileURLWithPath: spec, isDirectory: true).standardizedFileURL
    }

    private static func repoID(_ spec: String) throws -> HubRepoID {
        let looksLikePath = spec.hasPrefix("/") || spec.hasPrefix("./") || spec.hasPrefix("../")
            || spec.hasPrefix("~") || spec == "." || spec == ".."
        if looksLikePath {
            throw HubError.invalidModelSpec(spec: spec, reason: "no folder exists at that path")
        }
        return try HubRepoID(spec)
    }
}
