import Foundation
import Ops

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case user, assistant }
    public var role: Role
    public var text: String

    public init(_ role: Role, _ text: String) {
        self.role = role
        self.text = text
    }
}

/// A question for `FastVLMEngine`: a conversation that ends with a user turn, at most one
/// image (PNG or JPEG bytes; the chat template places it before the first user turn), and how
/// to answer.
public struct ChatRequest: Sendable {
    public var system: String = ChatPrompt.defaultSystem
    public var messages: [ChatMessage]
    /// PNG or JPEG file bytes.
    public var image: Data?
    public var preprocess: PreprocessMode?
    public var maxTokens = 256
    public var sampling = SamplingParameters()
    /// Strings that end the answer where they first appear (not included in it).
    public var stop: [String] = []

    /// A one-question request: `prompt` about `image`.
    public init(prompt: String, image: Data? = nil) {
        messages = [ChatMessage(.user, prompt)]
        self.image = image
    }

    public init(messages: [ChatMessage], image: Data? = nil) {
        self.messages = messages
        self.image = image
    }
}

/// Why an answer ended.
public enum FinishReason: String, Sendable {
    /// A stop token or one of the request's stop strings.
    case stop
    /// The request's token limit or the end of the context.
    case length
}

/// What `FastVLMEngine.answer` streams: `started` once the prompt is in the cache, then the
/// answer's text in pieces, then `finished`.
public enum ChatEvent: Sendable, Equatable {
    case started(promptTokens: Int)
    case text(String)
    case finished(FinishReason, promptTokens: Int, completionTokens: Int)
}

/// A request the engine refuses or could not finish; `kind` says whose fault it was.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case badRequest, badImage, imageTooLarge, contextExceeded, queueFull, timeout, shutdown, failed }
    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
