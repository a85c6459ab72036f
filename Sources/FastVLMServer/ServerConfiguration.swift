import Foundation

/// What `fastvlm-gpu serve` was asked for, apart from the model and runtime.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed once listening).
    public var port = 8080
    /// Bearer token every /v1 request must carry (nil: none).
    public var apiKey: String?
    /// The id /v1/models lists and requests must name.
    public var modelID: String
    /// Local image paths are read only inside this folder (nil: never).
    public var allowedLocalMedia: URL?
    /// Largest request body (base64 images make bodies large).
    public var maxBodyBytes = 32 << 20
    /// Largest image fetched from an http(s) URL, and how long the fetch may take.
    public var maxFetchBytes = 20 << 20
    public var fetchTimeoutSeconds: Double = 10
    /// max_tokens when a request gives none.
    public var defaultMaxTokens = 256

    public init(modelID: String) { self.modelID = modelID }
}
