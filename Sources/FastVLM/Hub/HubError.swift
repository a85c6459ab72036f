import Foundation

/// Everything that can go wrong while locating or downloading a model. Each case carries
/// enough context to print a message a user can act on (see `description`).
public enum HubError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// `--model` was neither an existing folder nor a well-formed `owner/name` repo id.
    case invalidModelSpec(spec: String, reason: String)
    /// `--model` named a path that exists but is not a folder.
    case notAFolder(path: String)
    /// Offline mode (`HF_HUB_OFFLINE`) and no complete snapshot in the cache.
    case notCachedOffline(repo: String, cache: String, detail: String)
    /// The hub said the repository (or revision) does not exist, or hides it from us.
    case repoNotFound(repo: String, endpoint: String, hasToken: Bool)
    /// The repository exists but access was refused (gated or private).
    case accessDenied(repo: String, status: Int, message: String, hasToken: Bool)
    /// A file listed by the hub could not be fetched.
    case fileNotFound(repo: String, file: String, status: Int)
    /// Any other unexpected HTTP status.
    case httpStatus(url: String, status: Int, message: String)
    /// Transport-level failure (connection refused, timeout, TLS, ...).
    case network(url: String, message: String)
    /// The hub answered with something we cannot use.
    case badResponse(url: String, message: String)
    /// The repository has none of the files FastVLM needs.
    case missingRequiredFiles(repo: String, missing: [String])
    /// A downloaded file failed its size or SHA-256 check twice in a row.
    case integrityFailure(repo: String, file: String, detail: String)
    /// Local file-system trouble (permissions, disk full, ...).
    case fileSystem(path: String, message: String)

    public var description: String {
        switch self {
        case let .invalidModelSpec(spec, reason):
            return "--model '\(spec)' is not an existing folder and not a valid Hugging Face repo id (\(reason)). "
                + "Pass a local model folder or a repo id of the form owner/name, e.g. apple/FastVLM-0.5B."
        case let .notAFolder(path):
            return "--model '\(path)' exists but is not a folder; pass the folder that holds config.json and the *.safetensors files."
        case let .notCachedOffline(repo, cache, detail):
            return "HF_HUB_OFFLINE is set and '\(repo)' is not in the Hugging Face cache at \(cache) (\(detail)). "
                + "Run once without HF_HUB_OFFLINE to download it, or download it with "
                + "`huggingface-cli download \(repo)` (same cache), or point --model at a local model folder."
        case let .repoNotFound(repo, endpoint, hasToken):
            var text = "Repository '\(repo)' was not found on \(endpoint), and no local folder of that name exists."
            if !hasToken {
                text += " If it is private or gated, set HF_TOKEN to an access token that can read it."
            }
            return text
        case let .accessDenied(repo, status, message, hasToken):
            var text = "Access to '\(repo)' was refused (HTTP \(status))"
            if !message.isEmpty { text += ": \(message)" }
            text += hasToken
                ? ". Check that the token in HF_TOKEN can read this repository (gated repos need their terms accepted on the website)."
                : ". The repository may be private or gated: set HF_TOKEN to an access token that can read it."
            return text
        case let .fileNotFound(repo, file, status):
            return "The hub listed '\(file)' in '\(repo)' but fetching it failed (HTTP \(status))."
        case let .httpStatus(url, status, message):
            return "HTTP \(status) from \(url)" + (message.isEmpty ? "" : ": \(message)")
        case let .network(url, message):
            return "Could not reach \(url): \(message). Check the network connection (or HF_ENDPOINT), "
                + "or set HF_HUB_OFFLINE=1 to use only the local cache."
        case let .badResponse(url, message):
            return "Unexpected answer from \(url): \(message)"
        case let .missingRequiredFiles(repo, missing):
            return "Repository '\(repo)' does not look like a FastVLM model: it has no \(missing.joined(separator: ", "))."
        case let .integrityFailure(repo, file, detail):
            return "Download of '\(file)' from '\(repo)' is corrupt even after a retry (\(detail)). "
                + "The partial file was removed; try again later."
        case let .fileSystem(path, message):
            return "File-system error at \(path): \(message)"
        }
    }

    public var errorDescription: String? { description }
}
