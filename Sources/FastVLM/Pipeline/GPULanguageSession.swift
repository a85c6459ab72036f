import Ops
import VulkanCore

/// The GPU decoder (GPULanguageModel) behind `LanguageSession`.
final class GPULanguageSession: LanguageSession {
    let model: GPULanguageModel
    /// Image rows given on the host (not the GPU pipeline's usual case) are uploaded here.
    private var uploaded: DeviceBuffer?

    init(device: Device, weights: Qwen2Weights, formats: WeightFormats, profiling: Bool, activations: StorageType, kvCache: StorageType,
         capacity: Int, sampleVocabulary: Int) throws {
        model = try GPULanguageModel(device: device, weights: weights, formats: formats, capacity: capacity,
                                     sampleVocabulary: sampleVocabulary, profiling: profiling, activations: activations, kvCache: kvCache)
    }

    var length: Int { model.length }
    func reset() { model.reset() }
    func truncate(to length: Int) throws { try model.truncate(to: length) }

    func prefill(_ prompt: SplicedPrompt, image: ImageRows?, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int {
        var rows: BufferView?
        switch image {
        case .device(let view, _): rows = view
        case .host(let values):
            let buffer = try model.device.upload(values)
            uploaded = buffer
            rows = buffer.view
        case nil: rows = nil
        }
        return try model.prefill(prompt, image: rows, sampling: sampling, rng: &rng)
    }

    func decode(_ token: Int, sampling: SamplingParameters, rng: inout SplitMix64) throws -> Int {
        try model.decode(token, sampling: sampling, rng: &rng)
    }

    func lastLogits() throws -> [Float] { try model.lastLogits() }

    var profiles: [PhaseProfile] { [model.prefillProfile, model.decodeProfile].compactMap { $0 } }
}
