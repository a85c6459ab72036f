import Foundation

/// A validated Hugging Face model repository id, `owner/name`.
public struct HubRepoID: Equatable, CustomStringConvertible, Sendable {
    public let owner: String
    public let name: String

    /// Checks the form the hub accepts: two parts separated by one `/`, each 1-96 characters
    /// from letters, digits, `-`, `_`, `.`, not starting or ending with `-` or `.`, without `--` or `..`.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            let reason = parts.count < 2
                ? "expected owner/name, got no '/'"
                : "expected exactly one '/' between owner and name"
            throw HubError.invalidModelSpec(spec: text, reason: reason)
        }
        for (label, part) in [("owner", parts[0]), ("name", parts[1])] {
            if let problem = HubRepoID.problem(with: part) {
                throw HubError.invalidModelSpec(spec: text, reason: "\(label) \(problem)")
            }
        }
        if parts[1].lowercased().hasSuffix(".git") {
            throw HubError.invalidModelSpec(spec: text, reason: "name must not end with .git")
        }
        owner = parts[0]
        name = parts[1]
    }

    private static func problem(with part: String) -> String? {
        if part.isEmpty { return "is empty" }
        if part.count > 96 { return "is longer than 96 characters" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        if let bad = part.first(where: { !allowed.contains($0) }) {
            return "contains '\(bad)' (allowed: letters, digits, '-', '_', '.')"
        }
        if part.contains("--") || part.contains("..") { return "must not contain '--' or '..'" }
        if let first = part.first, first == "-" || first == "." { return "must not start with '\(first)'" }
        if let last = part.last, last == "-" || last == "." { return "must not end with '\(last)'" }
        return nil
    }

    public var description: String { "\(owner)/\(name)" }

    /// The folder name huggingface_hub uses inside the hub cache.
    public var cacheFolderName: String { "models--\(owner)--\(name)" }
}

/// Hub settings read from the environment, the way huggingface_hub reads them.
public struct HubConfiguration: Sendable {
    /// `HF_ENDPOINT`, default https://huggingface.co (no trailing slash).
    public var endpoint: URL
    /// `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public var cacheDirectory: URL
    /// `HF_TOKEN`, else the token file written by `huggingface-cli login`.
    public var token: String?
    /// `HF_HUB_OFFLINE` set to 1/true/yes/on.
    public var offline: Bool
    /// Idle timeout per request, seconds.
    public var requestTimeout: TimeInterval

    public init(endpoint: URL, cacheDirectory: URL, token: String? = nil, offline: Bool = false,
                requestTimeout: TimeInterval = 60) {
        self.endpoint = endpoint
        self.cacheDirectory = cacheDirectory
        self.token = token
        self.offline = offline
        self.requestTimeout = requestTimeout
    }

    /// Reads HF_ENDPOINT, HF_HUB_CACHE, HF_HOME, HF_TOKEN, HF_TOKEN_PATH, HF_HUB_OFFLINE (and HOME, XDG_CACHE_HOME).
    public init(environment env: [String: String]) throws {
        func value(_ key: String) -> String? {
            guard let raw = env[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
            return raw
        }
        var endpointText = value("HF_ENDPOINT") ?? "https://huggingface.co"
        while endpointText.hasSuffix("/") { endpointText.removeLast() }
        guard let endpoint = URL(string: endpointText), let scheme = endpoint.scheme?.lowercased(),
              scheme == "http" || scheme == "https", endpoint.host != nil else {
            throw HubError.badResponse(url: endpointText, message: "HF_ENDPOINT must be an http(s) URL such as https://huggingface.co")
        }
        let home = value("HOME") ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            if path == "~" { return home }
            if path.hasPrefix("~/") { return home + path.dropFirst(1) }
            return path
        }
        let hfHome: String
        if let explicit = value("HF_HOME") {
            hfHome = expand(explicit)
        } else {
            let cacheRoot = value("XDG_CACHE_HOME").map(expand) ?? home + "/.cache"
            hfHome = cacheRoot + "/huggingface"
        }
        let cache = value("HF_HUB_CACHE").map(expand) ?? hfHome + "/hub"

        var token = value("HF_TOKEN")
        if token == nil {
            let tokenPath = value("HF_TOKEN_PATH").map(expand) ?? hfHome + "/token"
            if let text = try? String(contentsOfFile: tokenPath, encoding: .utf8) {
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { token = trimmed }
            }
        }
        let offlineText = value("HF_HUB_OFFLINE")?.lowercased() ?? ""
        self.init(endpoint: endpoint,
                  cacheDirectory: URL(fileURLWithPath: cache, isDirectory: true),
                  token: token,
                  offline: ["1", "true", "yes", "on"].contains(offlineText))
    }
}
