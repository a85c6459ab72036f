import ArgumentParser

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devices", abstract: "List the Vulkan devices with their features and limits.")
    func run() throws {}
}
