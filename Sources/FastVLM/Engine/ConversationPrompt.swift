import Foundation

/// The token sequence of a conversation in the `qwen_2` template: the first user turn as
/// `ChatPrompt` builds it (image rows before the question), each later turn appended the way
/// `ChatSession` continues a conversation. Without an image the template's image line is left out.
enum ConversationPrompt {
    static func splice(_ request: ChatRequest, pipeline p: FastVLMPipeline) throws -> SplicedPrompt {
        guard let first = request.messages.first, first.role == .user else {
            throw EngineError(.badRequest, "the conversation must start with a user message")
        }
        guard request.messages.last?.role == .user else { throw EngineError(.badRequest, "the conversation must end with a user message") }
        for m in request.messages {
            guard !m.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw EngineError(.badRequest, "a \(m.role.rawValue) message is empty") }
        }
        for text in request.messages.map(\.text) + [request.system] {
            do { try ChatPrompt.checkText(text, what: "message") } catch { throw EngineError(.badRequest, "\(error)") }
        }
        // Refuse a text that cannot fit before paying for tokenizing it.
        let least = request.messages.reduce(p.tokenizer.minimumTokenCount(request.system)) { $0 + p.tokenizer.minimumTokenCount($1.text) }
            + (request.image == nil ? 0 : p.imageTokens)
        guard least + request.maxTokens <= p.contextTokens else {
            throw EngineError(.contextExceeded, "the conversation is at least \(least) tokens; with max_tokens \(request.maxTokens) it cannot fit the context of \(p.contextTokens) tokens")
        }
        var prompt: SplicedPrompt
        if request.image != nil {
            var first = GenerationRequest(prompt: first.text)
            first.system = request.system
            first.maxTokens = 0
            do { prompt = try FastVLMPipeline.splice(first, model: p.model, tokenizer: p.tokenizer, imageTokens: p.imageTokens) } catch {
                throw EngineError(.badRequest, "\(error)")
            }
        } else {
            prompt = SplicedPrompt(slots: p.tokenizer.encode(
                "<|im_start|>system\n\(request.system)<|im_end|>\n<|im_start|>user\n\(first.text)<|im_end|>\n<|im_start|>assistant\n").map { $0 })
        }
        var rest = ""
        for m in request.messages.dropFirst() {
            switch m.role {
            case .assistant: rest += m.text + "<|im_end|>"
            case .user: rest += "\n<|im_start|>user\n\(m.text)<|im_end|>\n<|im_start|>assistant\n"
            }
        }
        if !rest.isEmpty { prompt.slots += p.tokenizer.encode(rest).map { $0 } }
        guard prompt.count + request.maxTokens <= p.contextTokens else {
            throw EngineError(.contextExceeded, "the prompt is \(prompt.count) tokens; with max_tokens \(request.maxTokens) it exceeds the context of \(p.contextTokens) tokens")
        }
        return prompt
    }
}
