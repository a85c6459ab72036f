/// A prompt as the decoder sees it: token ids, with `nil` where projected image rows go
/// (in order). Both checkpoint layouts reach the same sequence (spec section 5).
public struct SplicedPrompt: Sendable, Equatable {
    public var slots: [Int?]

    public init(slots: [Int?]) { self.slots = slots }

    /// Apple: one sentinel (-200) in the ids stands for all `imageTokens` rows.
    public static func apple(ids: [Int], imageTokens: Int, sentinel: Int = -200) -> SplicedPrompt {
        SplicedPrompt(slots: ids.flatMap { $0 == sentinel ? Array(repeating: nil, count: imageTokens) : [$0] })
    }

    /// transformers: the image token id is already repeated once per image row.
    public static func huggingFace(ids: [Int], imageTokenID: Int) -> SplicedPrompt {
        SplicedPrompt(slots: ids.map { $0 == imageTokenID ? nil : $0 })
    }

    public var count: Int { slots.count }
    public var imageRows: Int { slots.filter { $0 == nil }.count }
}

extension Qwen2Weights {
    /// Embedding rows [slots][hidden] with the image rows [imageRows][hidden] spliced in (CPU).
    public func embed(_ prompt: SplicedPrompt, image: [Float]) throws -> [Float] {
        let h = config.hiddenSize
        guard image.count == prompt.imageRows * h else {
            throw CheckpointError("prompt has \(prompt.imageRows) image positions but \(image.count / max(1, h)) image rows were given")
        }
        var out = [Float]()
        out.reserveCapacity(prompt.count * h)
        var next = 0
        for slot in prompt.slots {
            if let id = slot {
                guard id >= 0, id < config.vocabSize else { throw CheckpointError("token id \(id) is outside the \(config.vocabSize)-row embedding") }
                out += try embedTokens.rows(id..<id + 1)
            } else {
                out += image[next * h..<(next + 1) * h]
                next += 1
            }
        }
        return out
    }
}
