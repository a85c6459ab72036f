import ArgumentParser
import FastVLM
import Foundation
import VulkanCore

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Run once with GPU timestamps on every dispatch and print where the time went, per phase.",
        discussion: """
        Each phase table lists the ops by total GPU time: count, total, mean per dispatch, achieved \
        GFLOP/s and GB/s (from each dispatch's FLOP and byte counts), and the share of the phase. \
        The header line of a phase gives its GPU time, wall time, dispatches, barriers, submits \
        and bytes read back. A large gap between wall and GPU time means host overhead.
        """)

    @OptionGroup var options: ModelRunOptions

    @Option(help: "Write a Chrome trace (chrome://tracing, Perfetto) with one event per dispatch, phases as parents.")
    var trace: String?

    @Option(help: "Rows per phase table.")
    var top = 25

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard options.runtime.backend == .gpu else { throw ValidationError("profile times GPU kernels; it needs --backend gpu") }
    }

    func run() throws {
        let result = try RunCommand.generate(options, profiling: true, streaming: true)
        RunCommand.printSummary(result)
        guard !result.profiles.isEmpty else {
            throw ValidationError("the device reports no timestamp support, so there is nothing to profile")
        }
        print()
        for phase in result.profiles {
            print(phase.table(limit: top))
            print()
        }
        if let trace {
            let data = Profile.chromeTrace(phases: result.profiles.map { ($0.name, $0.timings) })
            try data.write(to: URL(fileURLWithPath: trace))
            FileHandle.standardError.write(Data("wrote \(trace)\n".utf8))
        }
    }
}
