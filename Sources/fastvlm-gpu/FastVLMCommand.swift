import ArgumentParser

@main
struct FastVLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fastvlm-gpu",
        abstract: "Run Apple's FastVLM vision-language model on any Vulkan GPU.",
        subcommands: [RunCommand.self, ChatCommand.self, ServeCommand.self, ProfileCommand.self, DevicesCommand.self, SelftestCommand.self, BenchCommand.self, TokenizeCommand.self, SoakCommand.self]
    )
}
