/// Tokenizer-free inputs for benchmarking: a chat prompt in Qwen2 token ids with the image rows
/// spliced in where Apple's template puts them, and deterministic pixel values.
public enum SyntheticPrompt {
    /// `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n`
    static let head = [151_644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151_645, 198, 151_644, 872, 198]
    /// The `\n` after the image.
    static let afterImage = [198]
    /// `<|im_end|>\n<|im_start|>assistant\n`
    static let tail = [151_645, 198, 151_644, 77091, 198]
    /// " Describe the image in detail, including the objects, the colours, the text and what is
    /// happening." - repeated as far as needed to reach the requested length.
    static let question = [60785, 279, 2168, 304, 7716, 11, 2670, 279, 6171, 11, 279, 26138, 11, 279, 1467, 323, 1128, 374, 12482, 13]

    /// Text ids of the fixed chat frame around the question (20).
    public static var frameTokens: Int { head.count + afterImage.count + tail.count }

    /// The text length of the spec's reference prompt ("What are these?": 24 text + 256 image = 280).
    public static let typicalTextTokens = 24

    /// `head, image rows, \n, question..., tail` with `textTokens` text ids in all.
    public static func chat(textTokens: Int = typicalTextTokens, imageTokens: Int) throws -> SplicedPrompt {
        guard textTokens >= frameTokens else {
            throw SyntheticModelError.invalidPrompt("\(textTokens) text tokens do not fit the \(frameTokens)-token chat frame")
        }
        guard imageTokens >= 0 else { throw SyntheticModelError.invalidPrompt("negative image token count \(imageTokens)") }
        let words = (0..<(textTokens - frameTokens)).map { question[$0 % question.count] }
        let ids: [Int?] = head + Array(repeating: nil, count: imageTokens) + afterImage + words + tail
        return SplicedPrompt(slots: ids)
    }

    /// Pixel values [3][size][size] in [0, 1], the same for a given seed.
    public static func pixels(size: Int, seed: UInt64 = 0) -> [Float] {
        SyntheticRandom.values(3 * size * size, mean: 0.5, std: 0.14, seed: SyntheticRandom.derive(seed, 0x5049_5845_4C53))
    }
}

extension SyntheticModel {
    /// The chat prompt with this model's 256 image rows; throws when it would not fit the context.
    public func prompt(textTokens: Int = SyntheticPrompt.typicalTextTokens) throws -> SplicedPrompt {
        let prompt = try SyntheticPrompt.chat(textTokens: textTokens, imageTokens: imageTokens)
        guard prompt.count <= text.maxPositions else {
            throw SyntheticModelError.invalidPrompt("\(prompt.count) positions exceed the \(text.maxPositions)-token context of \(name)")
        }
        return prompt
    }
}
