import Dispatch
import Foundation
import Ops
import VulkanCore

/// What the user asked for.
public struct GenerationRequest: Sendable {
    public var prompt: String
    public var system: String = ChatPrompt.defaultSystem
    public var image: URL?
    public var pixelValues: URL?
    public var preprocess: PreprocessMode?
    public var maxTokens: Int = 256
    public var sampling = SamplingParameters()
    public var dump: URL?
    /// Teacher forcing: each decode step feeds these tokens instead of the ones chosen, so
    /// `tokenIDs` holds the model's choice after every prefix of this reference continuation
    /// (what format accuracy is scored by). Decoding runs for exactly these tokens.
    public var forcedTokens: [Int]?

    public init(prompt: String) { self.prompt = prompt }
}

/// Seconds spent in each part; TTFT = preprocess + vision + projector + prefill (incl. the first sample).
public struct Timings: Codable, Sendable {
    public var load = 0.0
    public var preprocess = 0.0
    public var vision = 0.0
    public var projector = 0.0
    public var prefill = 0.0
    public var ttft = 0.0
    public var decode = 0.0
    public var decodeTokensPerSecond = 0.0
    public var peakDeviceBytes = 0

    enum CodingKeys: String, CodingKey {
        case load, preprocess, vision, projector, prefill, ttft, decode
        case decodeTokensPerSecond = "decode_tokens_per_second"
        case peakDeviceBytes = "peak_device_bytes"
    }
}

public struct GenerationResult: Sendable {
    public var text: String
    public var tokenIDs: [Int]
    public var promptTokens: Int
    public var timings: Timings
    /// Per-phase GPU profiles (vision, projector, prefill, decode) when profiling on the GPU.
    public var profiles: [PhaseProfile] = []
}

func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
