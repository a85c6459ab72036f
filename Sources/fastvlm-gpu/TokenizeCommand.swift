import ArgumentParser
import FastVLM
import Foundation

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Turn text into token ids, or ids back into text (with --decode), with the model's tokenizer.")

    @Option(help: ArgumentHelp(ModelArgument.help + " Only its tokenizer files are read (a repo id not yet cached is still downloaded whole)."))
    var model: String = ModelArgument.defaultModel

    @Flag(help: "Print ids as a JSON array.")
    var json = false

    @Flag(help: "Read token ids (a JSON array or whitespace-separated) and print the text.")
    var decode = false

    @Flag(help: "With --decode: leave out special tokens.")
    var skipSpecialTokens = false

    @Option(help: "Read the input from this file instead of the argument.")
    var file: String?

    @Argument(help: "The text (or ids with --decode).")
    var text: String?

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("give the input either as an argument or with --file, not both") }
    }

    func run() throws {
        let tokenizer = try Tokenizer(folder: try ModelArgument.folder(model, needsConfig: false))
        let input: String
        if let file {
            if let problem = InputFile.problem(URL(fileURLWithPath: file)) { throw CLIError("--file \(file): \(problem)") }
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("--file \(file): cannot read it") }
            guard let s = String(data: data, encoding: .utf8) else { throw CLIError("--file \(file): not valid UTF-8 text") }
            input = s
        } else {
            input = text ?? ""
        }
        if decode {
            let cleaned = input.replacingOccurrences(of: "[", with: " ").replacingOccurrences(of: "]", with: " ").replacingOccurrences(of: ",", with: " ")
            let ids = try cleaned.split(whereSeparator: \.isWhitespace).map { part -> Int in
                guard let id = Int(part), id >= 0 else { throw CLIError("'\(part)' is not a token id (give non-negative integers)") }
                return id
            }
            print(tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens))
        } else {
            let ids = tokenizer.encode(input)
            print(json ? "[" + ids.map(String.init).joined(separator: ",") + "]" : ids.map(String.init).joined(separator: " "))
        }
    }
}
