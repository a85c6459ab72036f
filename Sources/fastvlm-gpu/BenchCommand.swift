import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Repeatable benchmarks.",
        subcommands: [BenchModelCommand.self, BenchOpsCommand.self, BenchResolutionsCommand.self],
        defaultSubcommand: BenchModelCommand.self)
}
