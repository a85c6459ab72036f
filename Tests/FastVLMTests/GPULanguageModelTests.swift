import XCTest
import GPUTestSupport
import Ops
import VulkanCore
@testable import FastVLM

/// Qwen2 on the GPU against transformers' goldens and the CPU reference, on both tiny
/// checkpoints; the image rows are the golden projector output uploaded to the device.
final class GPULanguageModelTests: ValidatedDeviceTestCase {
    struct Tiny {
        let model: LoadedModel
        let prompt: SplicedPrompt
        let golden: Fixtures.Golden
        let projected: [Float]

        var language: Qwen2Weights { model.weights.language }
    }

    func tiny(_ layout: CheckpointLayout) throws -> Tiny {
        let golden = try Fixtures.golden()
        let model = try LoadedModel(folder: layout == .apple ? Fixtures.apple : Fixtures.hf)
        let prompt = layout == .apple
            ? SplicedPrompt.apple(ids: golden.apple_input_ids, imageTokens: golden.image_tokens)
            : SplicedPrompt.huggingFace(ids: golden.hf_input_ids, imageTokenID: golden.image_token_id)
        return Tiny(model: model, prompt: prompt, golden: golden, projected: try Fixtures.npy("projector_out.npy").values)
    }

    func model(_ t: Tiny, _ type: WeightFormat, capacity: Int = 64) throws -> GPULanguageModel {
        try GPULanguageModel(device: device, weights: t.language, formats: .language(type, sixteenBit: .f16), capacity: capacity, sampleVocabulary: t.golden.sample_vocab)
    }

    // MARK: goldens

    func checkGolden(_ layout: CheckpointLayout, _ type: WeightFormat, tolerance: Float, on other: Device? = nil, prefillChunk: Int? = nil) throws {
        let device = other ?? self.device!
        let t = try tiny(layout)
        let lm = try GPULanguageModel(device: device, weights: t.language, formats: .language(type, sixteenBit: .f16), capacity: 64, sampleVocabulary: t.golden.sample_vocab,
                                      prefillChunk: prefillChunk)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        var next = try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)
        let logits = try lm.lastLogits()
        XCTAssertEqual(logits.count, t.language.config.vocabSize)
        let error = normalisedMaxError(Array(logits.prefix(t.golden.logits_rows)), try Fixtures.npy("logits_last.npy").values)
        XCTAssertLessThanOrEqual(error, tolerance, "\(layout) \(type) last-position logits")
        var tokens = [next]
        while tokens.count < t.golden.greedy_tokens.count {
            next = try lm.decode(next, sampling: SamplingParameters(), rng: &rng)
            tokens.append(next)
        }
        XCTAssertEqual(tokens, t.golden.greedy_tokens, "\(layout) \(type)")
        XCTAssertEqual(lm.length, t.prompt.count + tokens.count - 1)
    }

    func testAppleGoldenFP32() throws { try checkGolden(.apple, .f32, tolerance: 1e-4) }
    /// The GPU kernel class (tiled GEMM, staged attention, 32-way decode attention, fused
    /// SwiGLU) forced on this device, and the CPU class forced, give the goldens as auto does.
    func testGoldensWithForcedKernelClasses() throws {
        for kernels in [KernelChoice.gpu, .cpu] {
            let forced = try Device(validation: true, kernels: kernels)
            for layout in [CheckpointLayout.apple, .huggingFace] {
                try checkGolden(layout, .f32, tolerance: 1e-4, on: forced)
                try checkGolden(layout, .f16, tolerance: 1e-2, on: forced)
            }
            XCTAssertEqual(forced.kernelPolicy.kernelClass.rawValue, kernels.rawValue)
        }
    }
    func testAppleGoldenFP16() throws { try checkGolden(.apple, .f16, tolerance: 1e-2) }
    func testHuggingFaceGoldenFP32() throws { try checkGolden(.huggingFace, .f32, tolerance: 1e-4) }
    func testHuggingFaceGoldenFP16() throws { try checkGolden(.huggingFace, .f16, tolerance: 1e-2) }
    /// bf16 holds the checkpoint's bf16 values exactly: as close as fp32.
    func testAppleGoldenBF16() throws { try checkGolden(.apple, .bf16, tolerance: 1e-4) }
    func testHuggingFaceGoldenBF16() throws { try checkGolden(.huggingFace, .bf16, tolerance: 1e-4) }
    /// 8-bit weights stay close to the fp32 goldens on the tiny model (same greedy tokens).
    func testAppleGoldenQ8() throws { try checkGolden(.apple, .q8, tolerance: 5e-2) }
    func testHuggingFaceGoldenQ8() throws { try checkGolden(.huggingFace, .q8, tolerance: 5e-2) }

    /// Quantized weights: the GPU model equals the CPU reference run on the same weights
    /// dequantized (so every kernel and the formats' plumbing are right), and the distance to
    /// the fp32 goldens is what the format costs (4-bit with one group per 64-wide tiny row
    /// moves the logits visibly; its greedy tokens are not expected to survive).
    func checkQuantizedAgainstReference(_ layout: CheckpointLayout, _ format: WeightFormat, goldenCosine: Float) throws {
        let t = try tiny(layout)
        let formats = WeightFormats.language(format, sixteenBit: .f16)
        let lm = try GPULanguageModel(device: device, weights: t.language, formats: formats, capacity: 64, sampleVocabulary: t.golden.sample_vocab)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        var tokens = [try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)]
        let logits = try lm.lastLogits()
        for _ in 0..<5 { tokens.append(try lm.decode(tokens.last!, sampling: SamplingParameters(), rng: &rng)) }

        let w = try t.language.dequantized(formats)
        let h = w.config.hiddenSize
        let backend = CPULanguageBackend(config: w.config)
        var expected = try Qwen2.forward(w, embeddings: HostRows(values: try w.embed(t.prompt, image: t.projected), rows: t.prompt.count, width: h), on: backend).values
        XCTAssertLessThanOrEqual(normalisedMaxError(logits, expected), 1e-4, "\(layout) \(format) against the dequantized CPU reference")
        var cpuTokens: [Int] = []
        for _ in 0..<tokens.count {
            cpuTokens.append(Reference.argmax(expected, count: t.golden.sample_vocab))
            expected = try Qwen2.forward(w, embeddings: HostRows(values: try w.embedTokens.rows(cpuTokens.last!..<cpuTokens.last! + 1), rows: 1, width: h), on: backend).values
        }
        XCTAssertEqual(tokens, cpuTokens, "\(layout) \(format) greedy tokens against the dequantized CPU reference")
        let golden = try Fixtures.npy("logits_last.npy").values
        XCTAssertGreaterThanOrEqual(cosine(Array(logits.prefix(t.golden.logits_rows)), golden), goldenCosine, "\(layout) \(format) against the fp32 goldens")
    }

    func testAppleQ8AgainstReference() throws { try checkQuantizedAgainstReference(.apple, .q8, goldenCosine: 0.999) }
    func testAppleQ4AgainstReference() throws { try checkQuantizedAgainstReference(.apple, .q4, goldenCosine: 0.9) }
    func testHuggingFaceQ4AgainstReference() throws { try checkQuantizedAgainstReference(.huggingFace, .q4, goldenCosine: 0.9) }

    func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return dot / max(na * nb, 1e-30)
    }

    /// Prompts longer than a chunk run in pieces that continue the cache, with the image
    /// rows split across chunk boundaries (apple: image positions 14 ..< 18 over chunks of 8
    /// and 5).
    func testChunkedPrefill() throws {
        for chunk in [8, 5] {
            try checkGolden(.apple, .f32, tolerance: 1e-4, prefillChunk: chunk)
            try checkGolden(.huggingFace, .f32, tolerance: 1e-4, prefillChunk: chunk)
        }
        XCTAssertEqual(GPULanguageModel.clip([ImageRun(position: 14, row: 0, count: 4)], to: 8..<16), [ImageRun(position: 6, row: 0, count: 2)])
        XCTAssertEqual(GPULanguageModel.clip([ImageRun(position: 14, row: 0, count: 4)], to: 16..<24), [ImageRun(position: 0, row: 2, count: 2)])
        XCTAssertEqual(GPULanguageModel.clip([ImageRun(position: 14, row: 0, count: 4)], to: 0..<8), [])
    }

    /// A device whose memory the host cannot map (discrete GPUs): weights go up through
    /// staging, the step buffers sit in host-visible memory.
    func testGoldenOnAStagingDevice() throws {
        setenv("FASTVLM_FORCE_STAGING", "1", 1)
        defer { unsetenv("FASTVLM_FORCE_STAGING") }
        let staging = try Device(validation: true)
        XCTAssertFalse(staging.deviceMemoryIsHostVisible)
        try checkGolden(.apple, .f16, tolerance: 1e-2, on: staging)
    }

    // MARK: sampling

    /// The CPU pipeline's generation loop (Pipeline/Generation.swift) on the reference backend.
    func cpuTokens(_ t: Tiny, sampling: SamplingParameters, count: Int) throws -> [Int] {
        let w = t.language
        let h = w.config.hiddenSize
        let backend = CPULanguageBackend(config: w.config)
        var rng = SplitMix64(seed: sampling.seed)
        var logits = try Qwen2.forward(w, embeddings: HostRows(values: try w.embed(t.prompt, image: t.projected), rows: t.prompt.count, width: h), on: backend).values
        var tokens: [Int] = []
        while tokens.count < count {
            let next = Reference.sample(logits, count: t.golden.sample_vocab, parameters: sampling, rng: &rng)
            tokens.append(next)
            logits = try Qwen2.forward(w, embeddings: HostRows(values: try w.embedTokens.rows(next..<next + 1), rows: 1, width: h), on: backend).values
        }
        return tokens
    }

    func gpuTokens(_ lm: GPULanguageModel, _ t: Tiny, image: BufferView, sampling: SamplingParameters, count: Int) throws -> [Int] {
        var rng = SplitMix64(seed: sampling.seed)
        var tokens = [try lm.prefill(t.prompt, image: image, sampling: sampling, rng: &rng)]
        while tokens.count < count { tokens.append(try lm.decode(tokens[tokens.count - 1], sampling: sampling, rng: &rng)) }
        return tokens
    }

    func testSeededSamplingMatchesTheCPUPipeline() throws {
        for layout in [CheckpointLayout.apple, .huggingFace] {
            let t = try tiny(layout)
            let lm = try model(t, .f32)
            let image = try device.upload(t.projected)
            for seed: UInt64 in [1, 42] {
                let sampling = SamplingParameters(temperature: 0.8, topK: 20, topP: 0.9, seed: seed)
                lm.reset()
                let gpu = try gpuTokens(lm, t, image: image.view, sampling: sampling, count: 16)
                XCTAssertEqual(gpu, try cpuTokens(t, sampling: sampling, count: 16), "\(layout) seed \(seed)")
                XCTAssertTrue(gpu.allSatisfy { $0 < t.golden.sample_vocab })
            }
        }
    }

    /// Greedy and sampled steps interleave (two decode recordings over one cache).
    func testSwitchingBetweenGreedyAndSampling() throws {
        let t = try tiny(.apple)
        let lm = try model(t, .f32)
        let image = try device.upload(t.projected)
        let sampled = SamplingParameters(temperature: 1.1, topK: 0, topP: 0.95, seed: 3)
        var rng = SplitMix64(seed: 3)
        var next = try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)
        XCTAssertEqual(next, t.golden.greedy_tokens[0])
        next = try lm.decode(next, sampling: SamplingParameters(), rng: &rng)
        XCTAssertEqual(next, t.golden.greedy_tokens[1])
        // The reference draws the uniform from a copy of the generator the model uses.
        let fed = next
        var peek = rng
        let expected = Reference.sample(try cpuLogitsAfter(t, tokens: [t.golden.greedy_tokens[0], fed]), count: t.golden.sample_vocab,
                                        parameters: sampled, rng: &peek)
        next = try lm.decode(fed, sampling: sampled, rng: &rng)
        XCTAssertEqual(next, expected)
        XCTAssertEqual(rng.state, peek.state, "one uniform drawn per sampled token")
    }

    /// Logits after the prompt and `tokens` fed one by one, on the CPU.
    func cpuLogitsAfter(_ t: Tiny, tokens: [Int]) throws -> [Float] {
        let w = t.language
        let h = w.config.hiddenSize
        let backend = CPULanguageBackend(config: w.config)
        var logits = try Qwen2.forward(w, embeddings: HostRows(values: try w.embed(t.prompt, image: t.projected), rows: t.prompt.count, width: h), on: backend).values
        for id in tokens {
            logits = try Qwen2.forward(w, embeddings: HostRows(values: try w.embedTokens.rows(id..<id + 1), rows: 1, width: h), on: backend).values
        }
        return logits
    }

    // MARK: chat turns, replay, reset

    /// A second prefill continues after the first turn and its decoded tokens (a chat turn),
    /// and matches the CPU backend fed the same sequence.
    func testLaterTurnContinuesTheCache() throws {
        let t = try tiny(.huggingFace)
        let lm = try model(t, .f32)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        var next = try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)
        var fed: [Int] = []
        for _ in 0..<3 {
            fed.append(next)
            next = try lm.decode(next, sampling: SamplingParameters(), rng: &rng)
        }
        let turn = SplicedPrompt(slots: [444, 198, 443, 357, 198, 319, 262])   // text only, no image rows
        let lengthBefore = lm.length
        _ = try lm.prefill(turn, image: nil, sampling: SamplingParameters(), rng: &rng)
        XCTAssertEqual(lm.length, lengthBefore + turn.count)

        let w = t.language
        let h = w.config.hiddenSize
        let backend = CPULanguageBackend(config: w.config)
        _ = try Qwen2.forward(w, embeddings: HostRows(values: try w.embed(t.prompt, image: t.projected), rows: t.prompt.count, width: h), on: backend)
        for id in fed { _ = try Qwen2.forward(w, embeddings: HostRows(values: try w.embedTokens.rows(id..<id + 1), rows: 1, width: h), on: backend) }
        let expected = try Qwen2.forward(w, embeddings: HostRows(values: try w.embed(turn, image: []), rows: turn.count, width: h), on: backend).values
        XCTAssertLessThanOrEqual(normalisedMaxError(try lm.lastLogits(), expected), 1e-4)
    }

    /// reset() empties the cache: the same prompt again (its recording replayed) gives the
    /// same logits and token.
    func testResetAndReplayedPrefill() throws {
        let t = try tiny(.apple)
        let lm = try model(t, .f32)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        let first = try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)
        let logits = try lm.lastLogits()
        _ = try lm.decode(first, sampling: SamplingParameters(), rng: &rng)
        lm.reset()
        XCTAssertEqual(lm.length, 0)
        XCTAssertEqual(try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng), first)
        XCTAssertEqual(try lm.lastLogits(), logits)
    }

    /// One submit per decode token; the recording is not rebuilt per token.
    func testDecodeReplaysOneSubmitPerToken() throws {
        let t = try tiny(.apple)
        // The GPU choice (fused SwiGLU, folded norms) whatever this device is; the CPU-device choice is the plain path below.
        let lm = try GPULanguageModel(device: device, weights: t.language, formats: .language(.f16, sixteenBit: .f16), capacity: 64,
                                      sampleVocabulary: t.golden.sample_vocab, profiling: true, prefillChunk: nil, fusesSwiGLU: true, foldsNorms: true)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        var next = try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)
        let steps = 5
        for _ in 0..<steps { next = try lm.decode(next, sampling: SamplingParameters(), rng: &rng) }
        XCTAssertEqual(lm.decodeSteps, steps)
        XCTAssertEqual(lm.decodeStats.submits, steps, "one submit per token")
        XCTAssertEqual(lm.decodeStats.dispatches % steps, 0)
        let perToken = lm.decodeStats.dispatches / steps
        // Per layer: qkv (input norm folded in), rope+append, attention (2), o_proj, gate_up (post-attention norm folded in),
        // down (SwiGLU fused into down's GEMV); then the LM head (final norm folded in) and argmax.
        XCTAssertLessThanOrEqual(perToken, t.language.config.layers * 7 + 6)
        XCTAssertFalse(try XCTUnwrap(lm.decodeProfile).timings.contains { $0.label == "rmsnorm" }, "decode has no RMSNorm dispatch")
        XCTAssertFalse(try XCTUnwrap(lm.decodeProfile).timings.contains { $0.label == "swiglu" }, "decode has no SwiGLU dispatch")
        let profile = try XCTUnwrap(lm.decodeProfile)
        XCTAssertEqual(profile.readbackBytes, 4 * steps)
        XCTAssertEqual(profile.timings.count, lm.decodeStats.dispatches)
        XCTAssertEqual(try XCTUnwrap(lm.prefillProfile).stats.submits, 1)
    }

    /// Fusing SwiGLU into the decode down projection removes exactly one dispatch (and its
    /// barrier) per layer per token, and gives the same tokens and logits as the separate SwiGLU.
    func testDecodeFusesSwiGLUIntoDownProjection() throws {
        let t = try tiny(.apple)
        try XCTSkipUnless(device.kernelPolicy.linear(m: 1, k: t.language.config.intermediateSize) == .gemv, "decode runs no gemv here")
        let image = try device.upload(t.projected)
        var runs: [(tokens: [Int], logits: [Float], stats: SequenceStats)] = []
        for fused in [false, true] {
            let lm = try GPULanguageModel(device: device, weights: t.language, formats: .language(.f32, sixteenBit: .f16), capacity: 64, sampleVocabulary: t.golden.sample_vocab,
                                          profiling: false, prefillChunk: nil, fusesSwiGLU: fused, foldsNorms: false)
            var rng = SplitMix64(seed: 0)
            var tokens = [try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)]
            for _ in 0..<3 { tokens.append(try lm.decode(tokens.last!, sampling: SamplingParameters(), rng: &rng)) }
            runs.append((tokens, try lm.lastLogits(), lm.decodeStats))
        }
        let (plain, fused) = (runs[0], runs[1])
        let layers = t.language.config.layers, steps = 3
        XCTAssertEqual(fused.stats.dispatches, plain.stats.dispatches - layers * steps, "one dispatch fewer per layer per token")
        XCTAssertEqual(fused.stats.barriers, plain.stats.barriers - layers * steps, "one barrier fewer per layer per token")
        XCTAssertEqual(fused.tokens, plain.tokens)
        XCTAssertLessThanOrEqual(normalisedMaxError(fused.logits, plain.logits), 1e-5)
    }

    /// Folding the RMSNorms into the GEMVs after them removes 2 dispatches and barriers per
    /// layer and 1 for the final norm per token, and gives the same tokens and logits as the
    /// separate norms, with fp32 and with fp16 decoder storage.
    func testDecodeFoldsNormsIntoGEMVs() throws {
        let t = try tiny(.apple)
        try XCTSkipUnless(device.kernelPolicy.linear(m: 1, k: t.language.config.hiddenSize) == .gemv, "decode runs no gemv here")
        let image = try device.upload(t.projected)
        for storage in [StorageType.f32, .f16] {
            var runs: [(tokens: [Int], logits: [Float], stats: SequenceStats)] = []
            for folds in [false, true] {
                let lm = try GPULanguageModel(device: device, weights: t.language, formats: .language(.f32, sixteenBit: .f16), capacity: 64,
                                              sampleVocabulary: t.golden.sample_vocab, profiling: false, prefillChunk: nil,
                                              fusesSwiGLU: device.kernelPolicy.fusesSwiGLU, foldsNorms: folds,
                                              activations: storage, kvCache: storage)
                var rng = SplitMix64(seed: 0)
                var tokens = [try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)]
                for _ in 0..<3 { tokens.append(try lm.decode(tokens.last!, sampling: SamplingParameters(), rng: &rng)) }
                runs.append((tokens, try lm.lastLogits(), lm.decodeStats))
            }
            let (plain, folded) = (runs[0], runs[1])
            // Either way the LM head writes the fp32 logits itself (the last hidden row is fp32
            // residual stream, the unfolded norm's fp16 output feeds an fp32-output GEMV).
            let fewer = (2 * t.language.config.layers + 1) * 3
            XCTAssertEqual(folded.stats.dispatches, plain.stats.dispatches - fewer, "\(storage): 2 per layer + 1 fewer per token")
            XCTAssertEqual(folded.stats.barriers, plain.stats.barriers - fewer, "\(storage)")
            XCTAssertEqual(folded.tokens, plain.tokens, "\(storage)")
            XCTAssertLessThanOrEqual(normalisedMaxError(folded.logits, plain.logits), storage == .f16 ? 5e-3 : 1e-5, "\(storage)")
        }
    }

    /// An LM head that is not the embedding (7B; checkpoints storing a different lm_head)
    /// is uploaded on its own and used.
    func testUntiedLMHead() throws {
        let t = try tiny(.apple)
        var w = t.language
        w.lmHead = WeightTensor(name: "untied", shape: w.lmHead.shape,
                                values: try w.lmHead.floats().enumerated().map { i, v in v * 1.5 + Float(i % 7) * 0.01 })
        let lm = try GPULanguageModel(device: device, weights: w, formats: .language(.f32, sixteenBit: .f16), capacity: 64, sampleVocabulary: t.golden.sample_vocab)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        _ = try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)
        let h = w.config.hiddenSize
        let expected = try Qwen2.forward(w, embeddings: HostRows(values: try w.embed(t.prompt, image: t.projected), rows: t.prompt.count, width: h),
                                         on: CPULanguageBackend(config: w.config)).values
        XCTAssertLessThanOrEqual(normalisedMaxError(try lm.lastLogits(), expected), 1e-4)
        XCTAssertGreaterThan(lm.weightBytes, (try model(t, .f32)).weightBytes, "the head is stored separately")
    }

    // MARK: errors

    func testCapacityErrors() throws {
        let t = try tiny(.apple)
        let w = t.language
        XCTAssertThrowsError(try GPULanguageModel(device: device, weights: w, formats: .language(.f32, sixteenBit: .f16), capacity: w.config.maxPositions + 1,
                                                  sampleVocabulary: t.golden.sample_vocab)) { error in
            XCTAssertTrue("\(error)".contains("\(w.config.maxPositions)"), "\(error)")
        }
        XCTAssertThrowsError(try GPULanguageModel(device: device, weights: w, formats: .language(.f32, sixteenBit: .f16), capacity: 0, sampleVocabulary: t.golden.sample_vocab))
        XCTAssertThrowsError(try GPULanguageModel(device: device, weights: w, formats: .language(.f32, sixteenBit: .f16), capacity: 8, sampleVocabulary: w.config.vocabSize + 1))

        let small = t.prompt.count - 1
        let lm = try model(t, .f32, capacity: small)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        XCTAssertThrowsError(try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("\(t.prompt.count) positions") && "\(error)".contains("\(small)"), "\(error)")
        }
        XCTAssertEqual(lm.length, 0)

        // Exactly full, then one decode step too many.
        let fits = try model(t, .f32, capacity: t.prompt.count)
        let first = try fits.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)
        XCTAssertThrowsError(try fits.decode(first, sampling: SamplingParameters(), rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("full"), "\(error)")
        }
    }

    func testBadInputsAreErrors() throws {
        let t = try tiny(.apple)
        let lm = try model(t, .f32)
        var rng = SplitMix64(seed: 0)
        XCTAssertThrowsError(try lm.prefill(t.prompt, image: nil, sampling: SamplingParameters(), rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("image"), "\(error)")
        }
        let short = try device.upload([Float](repeating: 0, count: t.language.config.hiddenSize))
        XCTAssertThrowsError(try lm.prefill(t.prompt, image: short.view, sampling: SamplingParameters(), rng: &rng))
        XCTAssertThrowsError(try lm.prefill(SplicedPrompt(slots: [1, t.language.config.vocabSize]), image: nil, sampling: SamplingParameters(), rng: &rng))
        XCTAssertThrowsError(try lm.prefill(SplicedPrompt(slots: []), image: nil, sampling: SamplingParameters(), rng: &rng))
        XCTAssertThrowsError(try lm.decode(-1, sampling: SamplingParameters(), rng: &rng))
        XCTAssertEqual(lm.length, 0)
    }
}

extension Qwen2Weights {
    /// Every matrix replaced by the values its stored format gives back (the CPU twin of a
    /// quantized GPU model).
    func dequantized(_ formats: WeightFormats) throws -> Qwen2Weights {
        func dq(_ t: WeightTensor) throws -> WeightTensor {
            WeightTensor(name: t.name, shape: t.shape,
                         values: WeightPacking.roundTrip(try t.floats(), rows: t.rows, cols: t.cols, format: formats.matrix(cols: t.cols)))
        }
        func dq(_ l: LinearWeights) throws -> LinearWeights {
            LinearWeights(weight: try dq(l.weight), bias: l.bias, outFeatures: l.outFeatures, inFeatures: l.inFeatures)
        }
        let layers = try self.layers.map {
            Layer(inputNorm: $0.inputNorm, q: try dq($0.q), k: try dq($0.k), v: try dq($0.v), o: try dq($0.o),
                  postAttentionNorm: $0.postAttentionNorm, gate: try dq($0.gate), up: try dq($0.up), down: try dq($0.down))
        }
        let embed = try dq(embedTokens)
        return Qwen2Weights(config: config, embedTokens: embed, layers: layers, norm: norm, lmHead: tiedEmbeddings ? embed : try dq(lmHead))
    }
}
