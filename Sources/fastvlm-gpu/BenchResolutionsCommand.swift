import ArgumentParser
import FastVLM
import Foundation
import VulkanCore

/// `fastvlm-gpu bench resolutions`: TTFT parts against the encoder's input side.
struct BenchResolutionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolutions",
        abstract: "Benchmark time to first token against input resolution: preparation, vision, projector and prefill per size, on the GPU.",
        discussion: """
        FastViTHD runs at any multiple of 64 and gives (N/64)^2 image tokens, so resolution trades \
        detail against time. Per size (and model), prints the medians over the repetitions of image \
        preparation, vision encoder, projector and prefill time, the image tokens and the TTFT \
        (their sum). --chart writes an SVG of vision + prefill per size (and TTFT per model when \
        several are given). Sizes a device cannot hold are reported, not fatal.
        """)

    @Option(help: "A model folder, a Hugging Face repo id, or synthetic-0.5b / synthetic-1.5b / synthetic-7b; repeat to compare models.")
    var model: [String] = ["synthetic-0.5b"]

    @Option(help: "Input sides to measure, comma-separated multiples of 64.")
    var sizes = "256,512,768,1024,1536,2048"

    @OptionGroup var runtime: RuntimeArguments

    @OptionGroup var repeats: BenchRepetitionArguments

    @Option(help: "Picture to prepare (decoded and resized every repetition); default: an in-memory 1920x1080 picture (resize only).")
    var image: String?

    @Option(help: "Image preparation: apple (pad to square) or hf (resize and centre crop).")
    var preprocess: PreprocessMode = .apple

    @Flag(help: "Time only the image preparation (no model, no device).")
    var preparationOnly = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: "Write an SVG chart of the figures to this file.")
    var chart: String?

    var sizeList: [Int] {
        get throws {
            let parts = sizes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = parts.compactMap(Int.init)
            guard !parts.isEmpty, values.count == parts.count else { throw ValidationError("--sizes must be comma-separated whole numbers, got '\(sizes)'") }
            for s in values {
                do { try ImageSize.check(s) } catch { throw ValidationError("--sizes: \(error)") }
            }
            return values
        }
    }

    func validate() throws {
        guard runtime.backend == .gpu else { throw ValidationError("bench times the GPU path; it needs --backend gpu") }
        guard runtime.imageSize == nil else { throw ValidationError("bench resolutions takes its sizes from --sizes, not --image-size") }
        _ = try sizeList
    }

    func run() throws {
        let note: (String) -> Void = { step in FileHandle.standardError.write(Data("bench: \(step)\n".utf8)) }
        var settings = ResolutionBenchmark.Settings()
        settings.sizes = try sizeList
        settings.repetitions = repeats.repetitions
        settings.warmups = repeats.warmups
        settings.textTokens = repeats.textTokens
        settings.preprocess = preprocess
        if let image {
            let url = URL(fileURLWithPath: image)
            _ = try ImageFile.header(url)
            settings.image = url
        }
        let options = runtime.runtime()
        var rows: [ResolutionBenchmark.Row] = []
        var device = "", activations = "", formats: [String] = []
        if preparationOnly {
            rows = try ResolutionBenchmark.preparationOnly(settings: settings, progress: note)
        }
        for spec in model where !preparationOnly {
            let weights = try BenchModelCommand.loadWeights(spec, progress: note)
            let gpu = try Device(index: options.deviceIndex, kernels: options.kernels)
            device = gpu.capabilities.name
            activations = options.activationType(for: gpu.capabilities).rawValue
            let result = try ResolutionBenchmark.run(name: spec, weights: weights, device: gpu, runtime: options, settings: settings, progress: note)
            rows += result.rows
            if !formats.contains(result.weights) { formats.append(result.weights) }
        }
        let input = image.map { "\($0) (decode + \(preprocess.rawValue) resize)" } ?? "in-memory 1920x1080 picture (\(preprocess.rawValue) resize)"
        let report = ResolutionBenchmark.Report(device: device, weights: formats.isEmpty ? "-" : formats.joined(separator: "/"), activations: activations,
                                                repetitions: repeats.repetitions, preparationInput: input, rows: rows)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(BenchResolutionsCommand.table(report))
        }
        if let chart {
            try Data(ResolutionChart.svg(report).utf8).write(to: URL(fileURLWithPath: chart))
            note("wrote \(chart)")
        }
    }

    static func table(_ r: ResolutionBenchmark.Report) -> String {
        func cell(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        let widths = [18, 7, 8, 8, 10, 11, 14, 12, 11, 10]
        func line(_ cells: [String]) -> String { zip(cells, widths).map { cell($0, $1) }.joined().trimmingCharacters(in: .whitespaces) }
        var lines = ["device \(r.device) | \(r.weights) weights, \(r.activations) activations | medians of \(r.repetitions) | preparation of \(r.preparationInput)"]
        lines.append(line(["model", "size", "tokens", "prompt", "prep ms", "vision ms", "projector ms", "prefill ms", "TTFT ms", "peak MiB"]))
        for row in r.rows {
            if let error = row.error {
                lines.append(line([row.model, "\(row.imageSize)", "\(row.imageTokens)", "\(row.promptTokens)"]) + " not run: \(error)")
                continue
            }
            let ms = [row.preparationMs, row.visionMs, row.projectorMs, row.prefillMs, row.ttftMs].map { String(format: "%.1f", $0) }
            lines.append(line([row.model, "\(row.imageSize)", "\(row.imageTokens)", "\(row.promptTokens)"] + ms
                              + [String(format: "%.0f", Double(row.peakDeviceBytes) / 1048576)]))
        }
        return lines.joined(separator: "\n")
    }
}
