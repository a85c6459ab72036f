import Ops
import VulkanCore

/// The language half of the GPU pipeline. Until the GPU decoder lands this is the CPU
/// reference decoder fed with the GPU projector's rows.
enum GPULanguageSession {
    static func make(device: Device, weights: Qwen2Weights, runtime: RuntimeOptions, sampleVocabulary: Int) throws -> LanguageSession {
        CPULanguageSession(weights: weights, sampleVocabulary: sampleVocabulary)
    }
}
