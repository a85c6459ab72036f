import ArgumentParser
import FastVLM
import Foundation

/// Many generations in one process (new images, chat turns, resets, turns refused at the end
/// of the context), watching host RSS and device memory: after warm-up both must stay flat.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run many generations in one process and check that host and device memory stay flat.",
        discussion: "Cycles through the images (a new chat every 10 generations, a reset every 25), keeps asking in between, and lets chats run into the context, whose refusal must leave the session usable. Exits 1 when memory grows by more than --tolerance after --warmup generations.")

    @Option(help: ArgumentHelp(ModelArgument.help))
    var model: String

    @Option(name: .customLong("image"), help: "Image files to cycle through (repeat the option).")
    var images: [String]

    @OptionGroup var runtime: RuntimeArguments
    @OptionGroup var generation: GenerationArguments

    @Option(help: "Generations to run.")
    var generations = 200

    @Option(help: "Generations before the memory baseline is taken.")
    var warmup = 20

    @Option(help: "Allowed growth of RSS and device memory over the baseline (0.02 = 2%).")
    var tolerance = 0.02

    @Option(help: "KV-cache positions; small, so chats reach the end of the context.")
    var context = 256

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one --image") }
        guard generations > warmup, warmup >= 1 else { throw ValidationError("--generations must exceed --warmup, which must be at least 1") }
        guard context >= 1 else { throw ValidationError("--context must be at least 1") }
    }

    func run() throws {
        let urls = images.map { URL(fileURLWithPath: $0) }
        for url in urls { _ = try ImageFile.load(url) }
        var options = runtime.runtime()
        options.contextTokens = context
        let pipeline = try FastVLMPipeline(folder: try ModelArgument.folder(model), runtime: options)
        var request = generation.request(prompt: "")
        var session: ChatSession?
        var samples: [MemorySample] = []
        var refusals = 0, newChats = 0
        let questions = ["Describe the image.", "What colours are in it?", "Is there any text?", "Say more."]
        for i in 0..<generations {
            if session == nil || i % 10 == 0 || i % 25 == 0 {
                request.image = urls[(i / 10) % urls.count]
                session = ChatSession(pipeline: pipeline, image: request)
                newChats += 1
            }
            do {
                _ = try session!.ask(questions[i % questions.count])
            } catch {
                // The end of the context: refused with a message that says so, and the next chat works.
                guard "\(error)".contains("exceeds the context") else { throw error }
                refusals += 1
                session = nil
            }
            samples.append(MemorySample(rss: MemorySample.residentBytes(), device: pipeline.device?.bytesInUse ?? 0))
        }
        let report = MemorySample.Report(samples: samples, warmup: warmup)
        print(String(format: "soak: %d generations (%d chats started, %d turns refused at the end of the %d-token context)",
                     generations, newChats, refusals, context))
        print(report.line("host RSS", \.rss))
        print(report.line("device memory", \.device))
        guard refusals > 0 else { throw CLIError("no chat reached the end of its context; lower --context or raise --generations") }
        let growth = max(report.growth(\.rss), report.growth(\.device))
        guard growth <= tolerance else {
            throw CLIError(String(format: "memory grew by %.2f%% after warm-up (allowed %.2f%%)", growth * 100, tolerance * 100))
        }
        print(String(format: "soak: flat (largest growth after warm-up %.2f%%, allowed %.2f%%)", growth * 100, tolerance * 100))
    }
}

/// Host resident memory and device memory in use after one generation.
struct MemorySample {
    var rss: Int
    var device: Int

    /// VmRSS from /proc/self/status (Linux); 0 where unavailable.
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }

    struct Report {
        let samples: [MemorySample]
        let warmup: Int

        /// (largest after the baseline - baseline) / baseline; the baseline is the sample at the end of warm-up.
        func growth(_ key: KeyPath<MemorySample, Int>) -> Double {
            let baseline = samples[warmup - 1][keyPath: key]
            guard baseline > 0 else { return 0 }
            let peak = samples[warmup...].map { $0[keyPath: key] }.max() ?? baseline
            return Double(peak - baseline) / Double(baseline)
        }

        func line(_ name: String, _ key: KeyPath<MemorySample, Int>) -> String {
            let mib = { (b: Int) in String(format: "%.2f MiB", Double(b) / 1_048_576) }
            let values = samples.map { $0[keyPath: key] }
            return "\(name): first \(mib(values[0])), after warm-up \(mib(values[warmup - 1])), max after \(mib(values[warmup...].max() ?? 0)), last \(mib(values.last ?? 0))"
                + String(format: " (growth %.2f%%)", growth(key) * 100)
        }
    }
}
