import Foundation
import Ops
import VulkanCore

/// Time to first token against the encoder's input side, on the GPU: per size, the image
/// preparation, vision encoder, projector and prefill times (medians over the repetitions, after
/// untimed warm-ups that also pay lavapipe's first-dispatch compiles) and the image token count.
/// The decoder is set up once per model; the encoder is recorded, and its memory planned, per size.
public enum ResolutionBenchmark {
    public struct Settings: Sendable {
        public var sizes = [256, 512, 768, 1024, 1536, 2048]
        public var repetitions = 3
        public var warmups = 1
        public var textTokens = SyntheticPrompt.typicalTextTokens
        /// The picture to prepare (decode + resize each time); nil: an in-memory 1920x1080 picture (resize only).
        public var image: URL?
        public var preprocess = PreprocessMode.apple
        public init() {}
    }

    /// One (model, size) measurement; times in milliseconds (medians). `error` says why a size
    /// could not run (such as a device too small for it); its times are then 0.
    public struct Row: Codable, Sendable {
        public var model: String
        public var imageSize: Int
        public var imageTokens: Int
        public var promptTokens: Int
        public var preparationMs = 0.0
        public var visionMs = 0.0
        public var projectorMs = 0.0
        public var prefillMs = 0.0
        public var ttftMs = 0.0
        public var peakDeviceBytes = 0
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case model, error
            case imageSize = "image_size", imageTokens = "image_tokens", promptTokens = "prompt_tokens"
            case preparationMs = "preparation_ms", visionMs = "vision_ms", projectorMs = "projector_ms", prefillMs = "prefill_ms"
            case ttftMs = "ttft_ms", peakDeviceBytes = "peak_device_bytes"
        }
    }

    public struct Report: Codable, Sendable {
        public var device: String
        public var weights: String
        public var activations: String
        public var repetitions: Int
        public var preparationInput: String
        public var rows: [Row]

        public init(device: String, weights: String, activations: String, repetitions: Int, preparationInput: String, rows: [Row]) {
            (self.device, self.weights, self.activations) = (device, weights, activations)
            (self.repetitions, self.preparationInput, self.rows) = (repetitions, preparationInput, rows)
        }

        enum CodingKeys: String, CodingKey {
            case device, weights, activations, repetitions, rows
            case preparationInput = "preparation_input"
        }
    }

    /// Measures one model at every size of `settings` on `device`; returns the rows and the
    /// weight format used (the runtime's choice, planned for the largest size).
    public static func run(name: String, weights w: FastVLMWeights, device: Device, runtime: RuntimeOptions, settings: Settings,
                           progress: (String) -> Void = { _ in }) throws -> (rows: [Row], weights: String) {
        for s in settings.sizes { try ImageSize.check(s) }
        let config = w.language.config
        let vocab = config.vocabSize
        let textTokens = max(settings.textTokens, SyntheticPrompt.frameTokens)
        let longest = textTokens + ImageSize.tokens(settings.sizes.max() ?? 64)
        let capacity = min(longest + 1, config.maxPositions)
        let activations = runtime.activationType(for: device.capabilities)
        let sixteenBit = GPUModel.sixteenBit(w)
        let (decoder, kvCache) = try runtime.decoderStorage(on: device)
        let plan = try GPUModel.chooseFormat(w, choice: runtime.weights, sixteenBit: sixteenBit, activations: activations,
                                             decoder: decoder, kvCache: kvCache, capacity: capacity,
                                             imageSize: settings.sizes.max() ?? 64, heap: device.heapBytes, deviceName: device.capabilities.name)
        progress("uploading the language model of \(name) (\(plan.format))")
        let language = try GPULanguageSession(device: device, weights: w.language, formats: .language(plan.format, sixteenBit: sixteenBit),
                                              profiling: runtime.profiling, activations: decoder, kvCache: kvCache,
                                              capacity: capacity, sampleVocabulary: vocab)
        let picture = settings.image == nil ? syntheticPicture() : nil
        var rows: [Row] = []
        for s in settings.sizes {
            let n = ImageSize.tokens(s)
            let chat = try SyntheticPrompt.chat(textTokens: textTokens, imageTokens: n)
            let prompt = SplicedPrompt(slots: chat.slots.map { $0.map { $0 % vocab } })
            var row = Row(model: name, imageSize: s, imageTokens: n, promptTokens: prompt.count)
            do {
                guard prompt.count < config.maxPositions else {
                    throw ImageSizeError(description: "\(prompt.count) prompt tokens exceed the model's context of \(config.maxPositions)")
                }
                progress("\(name) at \(s)x\(s): recording the encoder")
                let encoder = try GPUVisionEncoder(device: device, vision: w.vision, projector: w.projector,
                                                   formats: .vision(plan.format, sixteenBit: sixteenBit), activationType: activations, imageSize: s)
                var times: [[Double]] = []
                for rep in 0..<(settings.warmups + settings.repetitions) {
                    progress("\(name) at \(s)x\(s): " + (rep < settings.warmups ? "warm-up" : "repetition \(rep - settings.warmups + 1) of \(settings.repetitions)"))
                    let (pixels, preparation) = try prepare(s, settings, picture)
                    let vision = try encoder.encode(pixels: pixels)
                    let projector = try encoder.project()
                    language.reset()
                    var rng = SplitMix64(seed: 0)
                    let start = now()
                    _ = try language.prefill(prompt, image: .device(encoder.projectedRows, download: encoder.downloadProjected),
                                             sampling: SamplingParameters(), rng: &rng)
                    let prefill = seconds(since: start)
                    if rep >= settings.warmups { times.append([preparation, vision, projector, prefill]) }
                }
                let medians = (0..<4).map { i in median(times.map { $0[i] }) * 1e3 }
                (row.preparationMs, row.visionMs, row.projectorMs, row.prefillMs) = (medians[0], medians[1], medians[2], medians[3])
                row.ttftMs = median(times.map { $0.reduce(0, +) }) * 1e3
                row.peakDeviceBytes = device.peakBytesInUse
            } catch {
                row.error = "\(error)"
                progress("\(name) at \(s)x\(s): \(error)")
            }
            rows.append(row)
        }
        return (rows, plan.format.rawValue)
    }

    /// Image preparation alone (no model, no device): per size, the median preparation time.
    public static func preparationOnly(settings: Settings, progress: (String) -> Void = { _ in }) throws -> [Row] {
        let picture = settings.image == nil ? syntheticPicture() : nil
        return try settings.sizes.map { s in
            try ImageSize.check(s)
            progress("preparing at \(s)x\(s)")
            var times: [Double] = []
            for rep in 0..<(settings.warmups + settings.repetitions) {
                let (_, t) = try prepare(s, settings, picture)
                if rep >= settings.warmups { times.append(t) }
            }
            var row = Row(model: "-", imageSize: s, imageTokens: ImageSize.tokens(s), promptTokens: 0)
            row.preparationMs = median(times) * 1e3
            return row
        }
    }

    /// Pixel values at size `s` from the settings' file (decode + resize) or `picture` (resize), and the seconds it took.
    static func prepare(_ s: Int, _ settings: Settings, _ picture: DecodedPicture?) throws -> ([Float], Double) {
        let start = now()
        let pixels = try settings.image.map { try Preprocess.pixels(file: $0, size: s, mode: settings.preprocess) }
            ?? Preprocess.prepare(picture!.view, size: s, mode: settings.preprocess)
        return (pixels, seconds(since: start))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// A 1920x1080 RGB picture with gradients and edges, made in memory.
    static func syntheticPicture(width: Int = 1920, height: Int = 1080) -> DecodedPicture {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                rgb[i] = UInt8(x * 255 / (width - 1))
                rgb[i + 1] = UInt8(y * 255 / (height - 1))
                rgb[i + 2] = (x / 40 + y / 30) % 2 == 0 ? 220 : 30
            }
        }
        return DecodedPicture(rgb: rgb, width: width, height: height)
    }

    /// RGB bytes kept alive for a `PixelView`.
    final class DecodedPicture {
        let rgb: UnsafeMutableBufferPointer<UInt8>
        let width: Int, height: Int
        init(rgb values: [UInt8], width: Int, height: Int) {
            rgb = .allocate(capacity: values.count)
            _ = rgb.initialize(from: values)
            self.width = width
            self.height = height
        }
        deinit { rgb.deallocate() }
        var view: PixelView { PixelView(base: UnsafePointer(rgb.baseAddress!), width: width, height: height, channels: 3) }
    }
}
