import FastVLM
import Foundation
import Ops

/// A parsed `POST /v1/chat/completions` body: the engine's request, plus how to answer.
struct ChatCompletionRequest {
    var chat: ChatRequest
    var stream = false
    var includeUsage = false
    /// Where the one image comes from, still to be loaded.
    var imageURL: String?

    /// Parses OpenAI's chat format: system/developer, user and assistant messages whose content
    /// is a string or a list of `text` and `image_url` parts (at most one image).
    init(json body: Data, configuration: ServerConfiguration) throws {
        guard let object = try? JSONSerialization.jsonObject(with: body), let root = object as? [String: Any] else {
            throw OpenAIError.badRequest("the body is not a JSON object", code: "invalid_json")
        }
        if let model = root["model"] {
            guard let name = model as? String, name == configuration.modelID else {
                throw OpenAIError.notFound("the model '\(root["model"] ?? "")' does not exist; this server serves '\(configuration.modelID)'", code: "model_not_found")
            }
        }
        guard let messages = root["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw OpenAIError.badRequest("'messages' must be a non-empty list of message objects")
        }
        var system: [String] = []
        var turns: [ChatMessage] = []
        var image: String?
        for (i, message) in messages.enumerated() {
            let role = message["role"] as? String ?? ""
            let (text, images) = try Self.content(message["content"], at: i)
            switch role {
            case "system", "developer": system.append(text)
            case "user", "assistant":
                if !images.isEmpty {
                    guard role == "user", image == nil, images.count == 1 else {
                        throw OpenAIError.badRequest("at most one image per conversation, in a user message")
                    }
                    image = images[0]
                }
                turns.append(ChatMessage(role == "user" ? .user : .assistant, text))
            default:
                throw OpenAIError.badRequest("messages[\(i)]: unsupported role '\(role)' (system, developer, user, assistant)")
            }
        }
        chat = ChatRequest(messages: turns)
        if !system.isEmpty { chat.system = system.joined(separator: "\n") }
        imageURL = image

        chat.maxTokens = configuration.defaultMaxTokens
        for key in ["max_tokens", "max_completion_tokens"] where root[key] != nil && !(root[key] is NSNull) {
            guard let n = root[key] as? Int, n >= 1 else { throw OpenAIError.badRequest("'\(key)' must be a positive integer") }
            chat.maxTokens = n
        }
        var sampling = SamplingParameters()
        if let t = try Self.number(root, "temperature") {
            guard t >= 0, t <= 2 else { throw OpenAIError.badRequest("'temperature' must be between 0 and 2") }
            sampling.temperature = Float(t)
        }
        if let p = try Self.number(root, "top_p") {
            guard p > 0, p <= 1 else { throw OpenAIError.badRequest("'top_p' must be in (0, 1]") }
            sampling.topP = Float(p)
        }
        if let seed = root["seed"], !(seed is NSNull) {
            guard let s = seed as? Int else { throw OpenAIError.badRequest("'seed' must be an integer") }
            sampling.seed = UInt64(bitPattern: Int64(s))
        }
        chat.sampling = sampling
        switch root["stop"] {
        case nil, is NSNull: break
        case let s as String: chat.stop = [s]
        case let list as [String] where list.count <= 4: chat.stop = list
        default: throw OpenAIError.badRequest("'stop' must be a string or a list of at most 4 strings")
        }
        if let n = root["n"], !(n is NSNull) {
            guard (n as? Int) == 1 else { throw OpenAIError.badRequest("only n = 1 is supported") }
        }
        if let s = root["stream"], !(s is NSNull) {
            guard let flag = s as? Bool else { throw OpenAIError.badRequest("'stream' must be a boolean") }
            stream = flag
        }
        includeUsage = ((root["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
    }

    /// A message's text (parts joined by newlines) and image URLs.
    private static func content(_ value: Any?, at i: Int) throws -> (String, [String]) {
        if let text = value as? String { return (text, []) }
        guard let parts = value as? [[String: Any]] else {
            throw OpenAIError.badRequest("messages[\(i)].content must be a string or a list of content parts")
        }
        var texts: [String] = []
        var images: [String] = []
        for part in parts {
            switch part["type"] as? String {
            case "text":
                guard let t = part["text"] as? String else { throw OpenAIError.badRequest("messages[\(i)]: a text part needs 'text'") }
                texts.append(t)
            case "image_url":
                let url = (part["image_url"] as? [String: Any])?["url"] as? String ?? part["image_url"] as? String
                guard let url else { throw OpenAIError.badRequest("messages[\(i)]: an image_url part needs 'image_url': {'url': ...}") }
                images.append(url)
            default:
                throw OpenAIError.badRequest("messages[\(i)]: unsupported content part '\(part["type"] ?? "")' (text, image_url)")
            }
        }
        return (texts.joined(separator: "\n"), images)
    }

    private static func number(_ root: [String: Any], _ key: String) throws -> Double? {
        guard let v = root[key], !(v is NSNull) else { return nil }
        guard let n = v as? NSNumber else { throw OpenAIError.badRequest("'\(key)' must be a number") }
        return n.doubleValue
    }
}
