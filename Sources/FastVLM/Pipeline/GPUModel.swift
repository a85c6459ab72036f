import Ops
import VulkanCore

/// The whole model on one Vulkan device: the vision encoder + projector and the decoder,
/// set up from the runtime options (device, storage types, profiling) in one place for the
/// pipeline and the benchmark.
struct GPUModel {
    let device: Device
    let encoder: GPUVisionEncoder
    let language: GPULanguageSession

    init(weights w: FastVLMWeights, runtime: RuntimeOptions, capacity: Int, sampleVocabulary: Int, progress: (String) -> Void) throws {
        progress("opening the Vulkan device")
        device = try Device(index: runtime.deviceIndex)
        progress("uploading the vision encoder to \(device.capabilities.name)")
        do {
            encoder = try GPUVisionEncoder(device: device, vision: w.vision, projector: w.projector, weightType: runtime.weightType,
                                           activationType: runtime.activationType(for: device.capabilities), profiling: runtime.profiling,
                                           imageSize: runtime.imageSize)
        } catch VulkanError.outOfDeviceMemory(let requested, let detail) {
            let s = runtime.imageSize ?? w.vision.imageSize
            throw ImageSizeError(description: "the vision encoder at \(s)x\(s) does not fit \(device.capabilities.name): out of device memory allocating \(requested >> 20) MiB (\(detail)); its activations grow with the square of the size, so a smaller --image-size needs less")
        }
        progress("uploading the language model")
        language = try GPULanguageSession(device: device, weights: w.language, runtime: runtime, capacity: capacity, sampleVocabulary: sampleVocabulary)
    }
}
