import Foundation
import Ops
import VulkanCore

/// The standard benchmark: time-to-first-token parts at the model's input size and decode
/// speed, after a warm-up, over several repetitions, on the GPU. Baselines measured in the
/// same process (a 256x4864x896 GEMM and a 1x4864x896 GEMV with the same weight storage)
/// turn the figures into fractions of what this device's best kernels reach.
public enum ModelBenchmark {
    public struct Settings: Sendable {
        public var repetitions = 3
        public var warmups = 1
        public var textTokens = 24
        public var decodeTokens = 16
        public init() {}
    }

    /// Best and median of one measured quantity over the repetitions.
    public struct Figure: Codable, Sendable {
        public var name: String
        public var unit: String
        public var best: Double
        public var median: Double
    }

    public struct Report: Codable, Sendable {
        public var model: String
        public var device: String
        /// KernelPolicy.summary of the device as opened.
        public var kernels: String
        public var weights: String
        /// Device bytes of the weights in that format, and of the whole plan.
        public var weightBytes: Int
        public var plannedDeviceBytes: Int
        /// The vision encoder's activation storage.
        public var activations: String
        public var imageSize: Int
        public var promptTokens: Int
        public var decodeTokens: Int
        public var repetitions: Int
        public var figures: [Figure]
        public var encoderGFLOP: Double
        public var encoderDispatches: Int
        public var encoderSubmits: Int
        public var decodeWeightBytes: Double
        public var baselineGEMMShape: [Int]
        public var baselineGEMVShape: [Int]
        public var baselineGEMMGFLOPs: Double
        public var baselineGEMVGBps: Double
        public var encoderFractionOfGEMM: Double
        public var decodeFractionOfGEMV: Double
        public var peakDeviceBytes: Int

        enum CodingKeys: String, CodingKey {
            case model, device, kernels, weights, activations, figures, repetitions
            case weightBytes = "weight_bytes", plannedDeviceBytes = "planned_device_bytes"
            case imageSize = "image_size", promptTokens = "prompt_tokens", decodeTokens = "decode_tokens"
            case encoderGFLOP = "encoder_gflop", encoderDispatches = "encoder_dispatches", encoderSubmits = "encoder_submits"
            case decodeWeightBytes = "decode_weight_bytes", baselineGEMMShape = "baseline_gemm_shape", baselineGEMVShape = "baseline_gemv_shape"
            case baselineGEMMGFLOPs = "baseline_gemm_gflops", baselineGEMVGBps = "baseline_gemv_gbps"
            case encoderFractionOfGEMM = "encoder_fraction_of_gemm", decodeFractionOfGEMV = "decode_fraction_of_gemv"
            case peakDeviceBytes = "peak_device_bytes"
        }
    }

    /// Bytes of weights one decode step reads: every layer's matrices and the LM head, as stored.
    static func decodeWeightBytes(_ c: Qwen2Config, formats f: WeightFormats) -> Double {
        let h = c.hiddenSize, kv = c.kvHeads * c.headDim, q = c.heads * c.headDim
        func bytes(_ rows: Int, _ cols: Int) -> Int { rows * f.matrix(cols: cols).rowBytes(cols: cols) }
        let perLayer = bytes(q + 2 * kv, h) + bytes(h, q) + bytes(2 * c.intermediateSize, h) + bytes(h, c.intermediateSize)
        return Double(perLayer * c.layers + bytes(c.vocabSize, h))
    }

    public static func run(name: String, weights w: FastVLMWeights, runtime: RuntimeOptions, settings: Settings,
                           progress: (String) -> Void = { _ in }) throws -> Report {
        let config = w.language.config
        let s = runtime.imageSize ?? w.vision.imageSize
        try ImageSize.check(s)
        let n = ImageSize.tokens(s)
        let promptCount = max(settings.textTokens, SyntheticPrompt.frameTokens) + n
        let vocab = config.vocabSize
        let gpu = try GPUModel(weights: w, runtime: runtime, capacity: promptCount + settings.decodeTokens + 1, sampleVocabulary: vocab, progress: progress)
        let (device, encoder, language) = (gpu.device, gpu.encoder, gpu.language)
        let caps = device.capabilities

        // The spec's reference chat prompt (real Qwen2 ids; folded into smaller vocabularies).
        let chat = try SyntheticPrompt.chat(textTokens: max(settings.textTokens, SyntheticPrompt.frameTokens), imageTokens: n)
        let prompt = SplicedPrompt(slots: chat.slots.map { $0.map { $0 % vocab } })
        let pixels = SyntheticPrompt.pixels(size: s)
        let greedy = SamplingParameters()

        var vision: [Double] = [], projector: [Double] = [], prefill: [Double] = [], decode: [Double] = []
        for rep in 0..<(settings.warmups + settings.repetitions) {
            let measured = rep >= settings.warmups
            progress(measured ? "repetition \(rep - settings.warmups + 1) of \(settings.repetitions)" : "warm-up")
            let v = try encoder.encode(pixels: pixels)
            let p = try encoder.project()
            language.reset()
            var rng = SplitMix64(seed: 0)
            var start = now()
            var token = try language.prefill(prompt, image: .device(encoder.projectedRows, download: encoder.downloadProjected), sampling: greedy, rng: &rng)
            let f = seconds(since: start)
            start = now()
            for _ in 0..<settings.decodeTokens { token = try language.decode(token, sampling: greedy, rng: &rng) }
            let d = seconds(since: start) / Double(max(1, settings.decodeTokens))
            if measured {
                vision.append(v); projector.append(p); prefill.append(f); decode.append(d)
            }
        }

        // Baselines at this model's shapes: the MLP's up-projection as a 256-row GEMM, and the
        // LM head as a GEMV (larger than any cache, so it streams from memory as decode does).
        // The model's peak, before the baselines allocate operands of their own.
        let modelPeak = device.peakBytesInUse
        progress("baselines")
        let (h, inter) = (config.hiddenSize, config.intermediateSize)
        // The model's own tensors as the operands: the first layer's up projection and the LM head.
        let formats = language.model.formats
        let up = w.language.layers[0].up.weight
        let gemm = try LinearBenchmark.measure(device, m: 256, weights: formats.matrix(cols: h), repeats: 3,
                                               x: LinearBenchmark.values(256 * h, seed: 1), source: up)
        let gemv = try LinearBenchmark.measure(device, m: 1, weights: formats.matrix(cols: h), repeats: 5,
                                               x: LinearBenchmark.values(h, seed: 1), source: w.language.lmHead)

        func figure(_ name: String, _ unit: String, _ values: [Double], scale: Double = 1) -> Figure {
            let sorted = values.map { $0 * scale }.sorted()
            return Figure(name: name, unit: unit, best: sorted.first ?? 0, median: sorted.isEmpty ? 0 : sorted[sorted.count / 2])
        }
        let ttft = zip(zip(vision, projector), prefill).map { $0.0 + $0.1 + $1 }
        let flops = encoder.visionFlops
        let weightBytes = decodeWeightBytes(config, formats: formats)
        let visionMedian = figure("", "", vision).median
        let decodeMedian = figure("", "", decode).median
        // For times the best is the minimum; for throughputs it comes from the shortest time.
        let figures = [
            figure("vision encoder", "ms", vision, scale: 1e3),
            figure("projector", "ms", projector, scale: 1e3),
            figure("prefill (\(promptCount) tokens)", "ms", prefill, scale: 1e3),
            figure("TTFT (vision + projector + prefill)", "ms", ttft, scale: 1e3),
            figure("decode per token", "ms", decode, scale: 1e3),
            Figure(name: "encoder throughput", unit: "GFLOP/s", best: flops / 1e9 / (vision.min() ?? 1), median: flops / 1e9 / max(visionMedian, 1e-12)),
            Figure(name: "prefill throughput", unit: "tokens/s", best: Double(promptCount) / (prefill.min() ?? 1),
                   median: Double(promptCount) / max(figure("", "", prefill).median, 1e-12)),
            Figure(name: "decode throughput", unit: "tokens/s", best: 1 / (decode.min() ?? 1), median: 1 / max(decodeMedian, 1e-12)),
            Figure(name: "decode weight bandwidth", unit: "GB/s", best: weightBytes / 1e9 / (decode.min() ?? 1), median: weightBytes / 1e9 / max(decodeMedian, 1e-12)),
        ]
        let stats = encoder.visionStats
        return Report(model: name, device: caps.name, kernels: gpu.device.kernelPolicy.summary, weights: gpu.plan.format.rawValue, weightBytes: gpu.plan.weights,
                      plannedDeviceBytes: gpu.plan.total, activations: encoder.activationType.rawValue,
                      imageSize: s, promptTokens: promptCount,
                      decodeTokens: settings.decodeTokens, repetitions: settings.repetitions, figures: figures,
                      encoderGFLOP: flops / 1e9, encoderDispatches: stats.dispatches, encoderSubmits: stats.submits,
                      decodeWeightBytes: weightBytes, baselineGEMMShape: [256, inter, h], baselineGEMVShape: [1, config.vocabSize, h],
                      baselineGEMMGFLOPs: gemm.gflops, baselineGEMVGBps: gemv.gbps,
                      encoderFractionOfGEMM: flops / max(visionMedian, 1e-12) / 1e9 / gemm.gflops,
                      decodeFractionOfGEMV: weightBytes / max(decodeMedian, 1e-12) / 1e9 / gemv.gbps,
                      peakDeviceBytes: modelPeak)
    }
}
