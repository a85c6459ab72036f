import ArgumentParser

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Turn text into token ids, or ids back into text.")
    func run() throws {}
}
