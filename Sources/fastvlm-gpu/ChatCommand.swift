import ArgumentParser
import FastVLM
import Foundation
import Ops

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk about one image over several turns; the conversation and its KV cache are kept between turns.",
        discussion: "Type a question and press Enter. An empty line or end of input (Ctrl-D) ends the chat; /reset starts over with the same image.")

    @Option(help: ArgumentHelp(ModelArgument.help))
    var model: String = ModelArgument.defaultModel

    @Option(help: "Image file (PNG or JPEG).")
    var image: String

    @OptionGroup var runtime: RuntimeArguments
    @OptionGroup var generation: GenerationArguments

    @Option(help: "Positions the conversation may use (the KV cache is allocated for them; default 4096, at most the model's context).")
    var context: Int?

    func validate() throws {
        if let context { guard context >= 1 else { throw ValidationError("--context must be at least 1") } }
    }

    func run() throws {
        let imageURL = URL(fileURLWithPath: image)
        try ImageFile.check(imageURL)   // a bad image fails now, not after loading the model or at every turn
        let folder = try ModelArgument.folder(model)
        var options = runtime.runtime()
        options.contextTokens = context
        let pipeline = try FastVLMPipeline(folder: folder, runtime: options) { step in
            FileHandle.standardError.write(Data("loading: \(step)\n".utf8))
        }
        var request = generation.request(prompt: "")
        request.image = imageURL
        var session = ChatSession(pipeline: pipeline, image: request)
        while true {
            FileHandle.standardError.write(Data("> ".utf8))
            guard let line = readLine(), !line.trimmingCharacters(in: .whitespaces).isEmpty else { break }
            if line == "/reset" {
                session = ChatSession(pipeline: pipeline, image: request)
                continue
            }
            do {
                let result = try session.ask(line) { FileHandle.standardOutput.write(Data($0.utf8)) }
                FileHandle.standardOutput.write(Data("\n".utf8))
                let t = result.timings
                FileHandle.standardError.write(Data(String(format: "[%d prompt tokens, TTFT %.3fs, %d tokens at %.2f tok/s, %d in context]\n",
                                                           result.promptTokens, t.ttft, result.tokenIDs.count, t.decodeTokensPerSecond, session.length).utf8))
            } catch {
                // A turn that does not fit the context ends nothing else: say so and go on.
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
    }
}
