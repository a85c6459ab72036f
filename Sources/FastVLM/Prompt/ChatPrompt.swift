/// The `qwen_2` conversation template with the image before the question (spec section 5):
/// <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n<image>\n{question}<|im_end|>\n<|im_start|>assistant\n
public struct ChatPrompt: Sendable {
    public static let defaultSystem = "You are a helpful assistant."
    public static let imagePlaceholder = "<image>"
    public static let appleImageSentinel = -200

    public var system: String
    public var user: String

    public init(system: String = ChatPrompt.defaultSystem, user: String) {
        self.system = system
        self.user = user
    }

    /// User or system text may not hold `<image>`: the template places the one image itself,
    /// and a second placeholder would ask for image rows that do not exist.
    public static func checkText(_ text: String, what: String) throws {
        if text.contains(imagePlaceholder) {
            throw CheckpointError("the \(what) contains \(imagePlaceholder); the image goes where the chat template puts it (give it with --image), so remove it from the text")
        }
    }

    public var text: String {
        "<|im_start|>system\n\(system)<|im_end|>\n<|im_start|>user\n\(Self.imagePlaceholder)\n\(user)<|im_end|>\n<|im_start|>assistant\n"
    }

    /// Apple: the text around `<image>` tokenized separately, joined by one -200 sentinel.
    public func appleIDs(_ tokenizer: Tokenizer) -> [Int] {
        let parts = text.components(separatedBy: Self.imagePlaceholder)
        return parts.enumerated().flatMap { i, part in (i > 0 ? [Self.appleImageSentinel] : []) + tokenizer.encode(part) }
    }

    /// transformers: `<image>` expanded to one image token id per image row.
    public func huggingFaceIDs(_ tokenizer: Tokenizer, imageTokenID: Int, imageTokens: Int) -> [Int] {
        let parts = text.components(separatedBy: Self.imagePlaceholder)
        return parts.enumerated().flatMap { i, part in (i > 0 ? Array(repeating: imageTokenID, count: imageTokens) : []) + tokenizer.encode(part) }
    }
}
