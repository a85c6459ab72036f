import Ops
import VulkanCore

/// The whole model on one Vulkan device: the vision encoder + projector and the decoder,
/// set up from the runtime options (device, formats, profiling) in one place for the pipeline
/// and the benchmark. Device memory is planned before anything is uploaded.
struct GPUModel {
    let device: Device
    let plan: MemoryPlan
    let encoder: GPUVisionEncoder
    let language: GPULanguageSession

    init(weights w: FastVLMWeights, runtime: RuntimeOptions, capacity: Int, sampleVocabulary: Int, progress: (String) -> Void) throws {
        progress("opening the Vulkan device")
        device = try Device(index: runtime.deviceIndex, kernels: runtime.kernels)
        progress("kernel policy: \(device.kernelPolicy.summary)")
        let activations = runtime.activationType(for: device.capabilities)
        let sixteenBit = Self.sixteenBit(w)
        let (decoder, kvCache) = try runtime.decoderStorage(on: device)
        plan = try Self.chooseFormat(w, choice: runtime.weights, sixteenBit: sixteenBit, activations: activations,
                                     decoder: decoder, kvCache: kvCache, capacity: capacity, kvCaches: 1 + runtime.decodeSlots, imageSize: runtime.imageSize ?? w.vision.imageSize, heap: device.heapBytes, deviceName: device.capabilities.name)
        progress("uploading the vision encoder (\(WeightFormats.vision(plan.format, sixteenBit: sixteenBit).linear)) to \(device.capabilities.name)")
        encoder = try GPUVisionEncoder(device: device, vision: w.vision, projector: w.projector,
                                       formats: .vision(plan.format, sixteenBit: sixteenBit), activationType: activations, profiling: runtime.profiling,
                                       imageSize: runtime.imageSize)
        progress("uploading the language model (\(plan.format))")
        language = try GPULanguageSession(device: device, weights: w.language, formats: .language(plan.format, sixteenBit: sixteenBit),
                                          profiling: runtime.profiling, activations: decoder, kvCache: kvCache,
                                          capacity: capacity, sampleVocabulary: sampleVocabulary)
    }

    /// The 16-bit format that keeps the checkpoint best: its own bf16 values, else fp16.
    static func sixteenBit(_ w: FastVLMWeights) -> WeightFormat { w.language.embedTokens.storedFormat == .bf16 ? .bf16 : .f16 }

    /// The plan for the asked format, or for `auto` the first candidate that fits; a model
    /// that does not fit is refused with the figures and the formats that would.
    static func chooseFormat(_ w: FastVLMWeights, choice: WeightChoice, sixteenBit: WeightFormat, activations: StorageType,
                             decoder: StorageType = .f32, kvCache: StorageType = .f32, capacity: Int, kvCaches: Int = 1,
                             imageSize: Int, heap: Int, deviceName: String) throws -> MemoryPlan {
        func plan(_ f: WeightFormat) -> MemoryPlan {
            MemoryPlan.make(w, format: f, sixteenBit: sixteenBit, activations: activations, decoder: decoder, kvCache: kvCache, capacity: capacity,
                            kvCaches: kvCaches,
                            prefillChunk: GPULanguageModel.defaultPrefillChunk, imageSize: imageSize)
        }
        let candidates: [WeightFormat]
        switch choice {
        case .auto: candidates = WeightFormats.candidates(stored: w.language.embedTokens.storedFormat)
        case .format(let f): candidates = [f]
        }
        if let fits = candidates.lazy.map(plan).first(where: { $0.total <= heap }) { return fits }
        let fitting = WeightFormat.allCases.filter { plan($0).total <= heap }.map(\.rawValue)
        let asked = plan(candidates.last!)
        throw GPULanguageModelError("the model needs \(MemoryPlan.mib(asked.total)) MiB of device memory with \(asked.format) weights (\(asked)), "
            + "but \(deviceName) has a \(MemoryPlan.mib(heap)) MiB heap; "
            + (fitting.isEmpty ? "no weight format fits: use a smaller --context or model" : "formats that fit: --weights \(fitting.joined(separator: ", "))"))
    }
}
