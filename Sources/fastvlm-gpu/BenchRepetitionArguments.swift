import ArgumentParser
import FastVLM

/// How often a model benchmark repeats and what prompt it runs: shared by bench model and bench resolutions.
struct BenchRepetitionArguments: ParsableArguments {
    @Option(help: "Timed repetitions.")
    var repetitions = 3

    @Option(help: "Untimed warm-up passes first.")
    var warmups = 1

    @Option(help: "Text tokens in the prompt besides the image tokens.")
    var textTokens = SyntheticPrompt.typicalTextTokens

    func validate() throws {
        guard repetitions >= 1, warmups >= 0, textTokens >= 1 else {
            throw ValidationError("--repetitions and --text-tokens must be at least 1, --warmups at least 0")
        }
    }
}
