import ArgumentParser
import FastVLM
import Foundation
import Ops

/// `fastvlm-gpu bench --model ...`: TTFT parts and decode speed, repeatable.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Benchmark TTFT parts (vision, projector, prefill) at the model's input size and decode speed on the GPU.",
        discussion: """
        Runs warm-up passes, then several repetitions, and prints min and median per figure, the \
        encoder's GFLOP/s and decode's weight bandwidth, and both as fractions of a GEMM and a GEMV \
        measured in the same process. Inputs are fixed random pixels and token ids, so runs compare.
        """)

    @Option(help: "A model folder, a Hugging Face repo id, or synthetic-0.5b / synthetic-1.5b / synthetic-7b (random weights in the real geometry, built in memory).")
    var model: String = "synthetic-0.5b"

    @OptionGroup var runtime: RuntimeArguments

    @OptionGroup var repeats: BenchRepetitionArguments

    @Option(help: "Decode steps timed per repetition.")
    var decodeTokens = 16

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard runtime.backend == .gpu else { throw ValidationError("bench times the GPU path; it needs --backend gpu") }
        guard decodeTokens >= 1 else { throw ValidationError("--decode-tokens must be at least 1") }
    }

    func run() throws {
        let note: (String) -> Void = { step in FileHandle.standardError.write(Data("bench: \(step)\n".utf8)) }
        let weightsInMemory = try BenchModelCommand.loadWeights(model, progress: note)
        var settings = ModelBenchmark.Settings()
        settings.repetitions = repeats.repetitions
        settings.warmups = repeats.warmups
        settings.textTokens = repeats.textTokens
        settings.decodeTokens = decodeTokens
        let report = try ModelBenchmark.run(name: model, weights: weightsInMemory, runtime: runtime.runtime(), settings: settings, progress: note)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(BenchModelCommand.table(report))
        }
    }

    static func loadWeights(_ spec: String, progress: (String) -> Void) throws -> FastVLMWeights {
        if let synthetic = SyntheticModel.parse(spec) {
            progress("building \(synthetic.name): \(synthetic.parameterCount) random parameters in the geometry of \(synthetic.releasedModel)")
            return synthetic.weights()
        }
        progress("loading \(spec)")
        return try LoadedModel(folder: try ModelArgument.folder(spec)).weights
    }

    static func table(_ r: ModelBenchmark.Report) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var lines = ["model \(r.model) | device \(r.device) | \(r.weights) weights (\(r.weightBytes >> 20) MiB), \(r.activations) activations | \(r.imageSize)x\(r.imageSize) image | prompt \(r.promptTokens) tokens | \(r.repetitions) repetitions", r.kernels]
        lines.append(pad("figure", 38) + pad("unit", 10) + pad("best", 12) + "median")
        for f in r.figures {
            lines.append(pad(f.name, 38) + pad(f.unit, 10) + pad(String(format: "%.2f", f.best), 12) + String(format: "%.2f", f.median))
        }
        lines.append(String(format: "encoder: %.1f GFLOP in %d dispatches, %d submits", r.encoderGFLOP, r.encoderDispatches, r.encoderSubmits))
        let shape = { (s: [Int]) in s.map(String.init).joined(separator: "x") }
        lines.append("baseline GEMM \(shape(r.baselineGEMMShape)): " + String(format: "%.2f GFLOP/s -> encoder at %.2f of it", r.baselineGEMMGFLOPs, r.encoderFractionOfGEMM))
        lines.append("baseline GEMV \(shape(r.baselineGEMVShape)) (the LM head): "
                     + String(format: "%.2f GB/s -> decode at %.2f of it (%.0f MB of weights per token)", r.baselineGEMVGBps, r.decodeFractionOfGEMV, r.decodeWeightBytes / 1e6))
        lines.append(String(format: "device memory of the model: %.1f MiB peak, %.1f MiB planned", Double(r.peakDeviceBytes) / 1048576, Double(r.plannedDeviceBytes) / 1048576))
        return lines.joined(separator: "\n")
    }
}
