import Foundation
import Ops

/// A conversation about one image: the first turn runs the encoder and the whole prompt;
/// later turns append only their own tokens to the KV cache the earlier turns left.
public final class ChatSession {
    public let pipeline: FastVLMPipeline
    public let image: GenerationRequest
    private var rng: SplitMix64
    /// Tokens that close the last answer as the chat template does: `<|im_end|>` (in place of
    /// whatever stop token ended it), preceded by its last token when it ran out of
    /// --max-tokens (sampled, never fed to the cache).
    private var carry: [Int] = []
    private var turns = 0

    /// `image` carries the image (or pixel values), system prompt, sampling, token limit and
    /// the first turn's --dump folder; its `prompt` is ignored.
    public init(pipeline: FastVLMPipeline, image: GenerationRequest) {
        self.pipeline = pipeline
        self.image = image
        rng = SplitMix64(seed: image.sampling.seed)
    }

    /// Tokens in the conversation so far.
    public var length: Int { pipeline.language.length }

    /// - Parameter maxTokens: this turn's limit (default: the session's).
    /// A turn that fails (say, it does not fit the context) leaves the conversation as it was.
    public func ask(_ question: String, maxTokens: Int? = nil, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        let before = length
        do {
            return try turn(question, maxTokens: maxTokens, onText: onText)
        } catch {
            try? pipeline.language.truncate(to: turns == 0 ? 0 : before)
            throw error
        }
    }

    private func turn(_ question: String, maxTokens: Int?, onText: (String) -> Void) throws -> GenerationResult {
        var request = image
        request.prompt = question
        if let maxTokens { request.maxTokens = maxTokens }
        var t = Timings()
        t.load = pipeline.loadSeconds
        let p = pipeline
        let first: Int
        let promptCount: Int
        if turns == 0 {
            p.language.reset()
            let prompt = try p.promptIDs(request)
            var start = now()
            let pixels = try p.pixels(request)
            t.preprocess = seconds(since: start)
            let rows = try p.encodeImage(pixels, timings: &t, dump: request.dump)
            start = now()
            first = try p.language.prefill(prompt, image: rows, sampling: request.sampling, rng: &rng)
            t.prefill = seconds(since: start)
            promptCount = prompt.count
            if let dump = request.dump {
                let logits = try p.language.lastLogits()
                try NPY.write(logits, shape: [logits.count], to: dump.appending(path: "logits_last.npy"))
            }
        } else {
            guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CheckpointError("the prompt is empty") }
            try ChatPrompt.checkText(question, what: "prompt")
            try p.checkContext(p.tokenizer.minimumTokenCount(question), maxTokens: request.maxTokens, what: "this turn (at least \(p.tokenizer.minimumTokenCount(question)) tokens)")
            // Close the previous answer the way the chat template does, then open this turn.
            let ids = carry + p.tokenizer.encode("\n<|im_start|>user\n\(question)<|im_end|>\n<|im_start|>assistant\n")
            try p.checkContext(ids.count, maxTokens: request.maxTokens, what: "this turn (\(ids.count) tokens)")
            let start = now()
            first = try p.language.prefill(SplicedPrompt(slots: ids), image: nil, sampling: request.sampling, rng: &rng)
            t.prefill = seconds(since: start)
            promptCount = ids.count
        }
        t.ttft = t.preprocess + t.vision + t.projector + t.prefill
        let (generated, stop) = try p.decode(from: first, maxTokens: request.maxTokens, sampling: request.sampling, forced: request.forcedTokens,
                                             rng: &rng, timings: &t, onText: onText)
        if turns == 0, let dump = request.dump {
            try JSONEncoder().encode(generated).write(to: dump.appending(path: "token_ids.json"))
        }
        carry = (stop == nil ? Array(generated.suffix(1)) : []) + p.tokenizer.encode("<|im_end|>")
        turns += 1
        t.peakDeviceBytes = p.device?.peakBytesInUse ?? 0
        let text = p.tokenizer.decode(generated, skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines)
        return GenerationResult(text: text, tokenIDs: generated, promptTokens: promptCount, timings: t, profiles: p.profiles)
    }
}
