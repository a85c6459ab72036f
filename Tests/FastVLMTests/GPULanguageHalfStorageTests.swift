import XCTest
import GPUTestSupport
import Ops
import VulkanCore
@testable import FastVLM

/// The decoder with fp16 activation rows and/or an fp16 KV cache, on both tiny checkpoints:
/// against transformers' fp32 goldens (logits within what fp16 storage costs, the same greedy
/// tokens) and against the GPU's own fp32 run.
final class GPULanguageHalfStorageTests: ValidatedDeviceTestCase {
    static let combos: [(activations: StorageType, kvCache: StorageType)] = [(.f16, .f16), (.f16, .f32), (.f32, .f16)]

    func tiny(_ layout: CheckpointLayout) throws -> (weights: Qwen2Weights, prompt: SplicedPrompt, golden: Fixtures.Golden, projected: [Float]) {
        let golden = try Fixtures.golden()
        let model = try LoadedModel(folder: layout == .apple ? Fixtures.apple : Fixtures.hf)
        let prompt = layout == .apple
            ? SplicedPrompt.apple(ids: golden.apple_input_ids, imageTokens: golden.image_tokens)
            : SplicedPrompt.huggingFace(ids: golden.hf_input_ids, imageTokenID: golden.image_token_id)
        return (model.weights.language, prompt, golden, try Fixtures.npy("projector_out.npy").values)
    }

    /// Prefill logits and the greedy tokens of `lm` for the tiny prompt.
    func generate(_ lm: GPULanguageModel, prompt: SplicedPrompt, projected: [Float], count: Int) throws -> (logits: [Float], tokens: [Int]) {
        let image = try device.upload(projected)
        var rng = SplitMix64(seed: 0)
        var tokens = [try lm.prefill(prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)]
        let logits = try lm.lastLogits()
        while tokens.count < count { tokens.append(try lm.decode(tokens.last!, sampling: SamplingParameters(), rng: &rng)) }
        return (logits, tokens)
    }

    /// fp16 rows carry 11 significant bits through every layer: the logits move by about 1e-3
    /// of their range (the bound leaves a factor of ~5), the greedy tokens do not move.
    func checkGolden(_ layout: CheckpointLayout, prefillChunk: Int? = nil) throws {
        let t = try tiny(layout)
        let golden = try Fixtures.npy("logits_last.npy").values
        for (act, kv) in Self.combos {
            let lm = try GPULanguageModel(device: device, weights: t.weights, formats: .language(.f32, sixteenBit: .f16), capacity: 64,
                                          sampleVocabulary: t.golden.sample_vocab, prefillChunk: prefillChunk, activations: act, kvCache: kv)
            XCTAssertEqual(lm.activations, act)
            XCTAssertEqual(lm.kvCache, kv)
            let run = try generate(lm, prompt: t.prompt, projected: t.projected, count: t.golden.greedy_tokens.count)
            let what = "\(layout) \(act) activations, \(kv) KV cache, chunk \(prefillChunk ?? 0)"
            XCTAssertLessThanOrEqual(normalisedMaxError(Array(run.logits.prefix(t.golden.logits_rows)), golden), 5e-3, what)
            XCTAssertEqual(run.tokens, t.golden.greedy_tokens, what)
        }
    }

    func testAppleGolden() throws { try checkGolden(.apple) }
    func testHuggingFaceGolden() throws { try checkGolden(.huggingFace) }
    /// Chunks of 5 positions: fp16 image rows spliced at unaligned rows, the cache continued.
    func testChunkedPrefill() throws { try checkGolden(.apple, prefillChunk: 5) }

    /// Against the same GPU model with fp32 storage, logits after a few decoded tokens (the
    /// fp16 cache read back at every position), with fp16 weights as the GPU default is.
    func testDecodedLogitsAgainstFP32Storage() throws {
        let t = try tiny(.huggingFace)
        var runs: [[Float]] = []
        for (act, kv) in [(StorageType.f32, StorageType.f32), (.f16, .f16)] {
            let lm = try GPULanguageModel(device: device, weights: t.weights, formats: .language(.f16, sixteenBit: .f16), capacity: 64,
                                          sampleVocabulary: t.golden.sample_vocab, activations: act, kvCache: kv)
            _ = try generate(lm, prompt: t.prompt, projected: t.projected, count: 6)
            runs.append(try lm.lastLogits())
        }
        XCTAssertLessThanOrEqual(normalisedMaxError(runs[1], runs[0]), 5e-3)
    }

    /// An fp16 cache holds half the bytes; decode is still one submit and one 4-byte readback
    /// per token, with the same dispatches as fp32 storage: the kernels themselves move between
    /// the fp32 residual stream and the fp16 rows, and the LM head writes fp32 logits.
    func testHalfCacheBytesAndDecodeCounts() throws {
        let t = try tiny(.apple)
        var stats: [SequenceStats] = []
        var cacheBytes: [Int] = []
        for storage in [StorageType.f32, .f16] {
            let lm = try GPULanguageModel(device: device, weights: t.weights, formats: .language(.f32, sixteenBit: .f16), capacity: 64,
                                          sampleVocabulary: t.golden.sample_vocab, profiling: true, activations: storage, kvCache: storage)
            _ = try generate(lm, prompt: t.prompt, projected: t.projected, count: 4)
            XCTAssertEqual(lm.decodeStats.submits, 3, "\(storage)")
            XCTAssertEqual(try XCTUnwrap(lm.decodeProfile).readbackBytes, 4 * 3, "\(storage)")
            stats.append(lm.decodeStats)
            cacheBytes.append(lm.kvCacheBytes)
        }
        XCTAssertEqual(cacheBytes[1] * 2, cacheBytes[0])
        XCTAssertEqual(stats[1].dispatches, stats[0].dispatches)
    }

    /// fp16 storage is refused, naming what is missing, on a device without it.
    func testRefusedWithoutSixteenBitSupport() throws {
        var caps = device.capabilities
        XCTAssertNoThrow(try GPULanguageModel.requireStorage(.f32, for: "KV caches", on: { var c = caps; c.shaderFloat16 = false; return c }()))
        caps.shaderFloat16 = false
        XCTAssertThrowsError(try GPULanguageModel.requireStorage(.f16, for: "decoder activations", on: caps)) { error in
            XCTAssertTrue("\(error)".contains("shaderFloat16") && !"\(error)".contains("storageBuffer16BitAccess"), "\(error)")
        }
        caps.shaderFloat16 = true
        caps.storageBuffer16BitAccess = false
        XCTAssertThrowsError(try GPULanguageModel.requireStorage(.f16, for: "KV caches", on: caps)) { error in
            XCTAssertTrue("\(error)".contains("storageBuffer16BitAccess") && "\(error)".contains("KV caches"), "\(error)")
        }
    }

    /// The residual stream is fp32 under fp16 rows: image rows far beyond fp16's range (65504)
    /// pass through it, and only the normed rows derived from them are fp16. The logits match
    /// the fp32-storage run's.
    func testWideImageRowsSurvive() throws {
        let t = try tiny(.apple)
        let wide = t.projected.map { $0 * 1e6 }
        var logits: [[Float]] = []
        for storage in [StorageType.f32, .f16] {
            let lm = try GPULanguageModel(device: device, weights: t.weights, formats: .language(.f32, sixteenBit: .f16), capacity: 64,
                                          sampleVocabulary: t.golden.sample_vocab, activations: storage, kvCache: storage)
            logits.append(try generate(lm, prompt: t.prompt, projected: wide, count: 3).logits)
        }
        XCTAssertTrue(logits[1].allSatisfy(\.isFinite))
        XCTAssertLessThanOrEqual(normalisedMaxError(logits[1], logits[0]), 5e-3)
    }

    /// fp16 rows beyond 65504 (here the first layer's q/k/v, its input norm's weight scaled
    /// up) are refused with a clear error after the prefill (one logits readback per prompt),
    /// not answered from NaN; the cache is left as it was.
    func testOverflowIsAnError() throws {
        let t = try tiny(.apple)
        var weights = t.weights
        weights.layers[0].inputNorm = weights.layers[0].inputNorm.map { $0 * 1e6 }
        let lm = try GPULanguageModel(device: device, weights: weights, formats: .language(.f32, sixteenBit: .f16), capacity: 64,
                                      sampleVocabulary: t.golden.sample_vocab, activations: .f16, kvCache: .f16)
        let image = try device.upload(t.projected)
        var rng = SplitMix64(seed: 0)
        XCTAssertThrowsError(try lm.prefill(t.prompt, image: image.view, sampling: SamplingParameters(), rng: &rng)) { error in
            XCTAssertTrue("\(error)".contains("overflowed fp16"), "\(error)")
        }
        XCTAssertEqual(lm.length, 0)
    }

    /// The memory plan counts the KV cache and the decoder's rows in their storage.
    func testMemoryPlanFollowsStorage() {
        let w = SyntheticModel.fastVLM0_5B.weights()
        func plan(_ s: StorageType) -> MemoryPlan {
            MemoryPlan.make(w, format: .bf16, sixteenBit: .bf16, activations: .f16, decoder: s, kvCache: s, capacity: 1024, prefillChunk: 512, imageSize: 1024)
        }
        let (full, half) = (plan(.f32), plan(.f16))
        XCTAssertEqual(half.kvCache * 2, full.kvCache)
        XCTAssertEqual(full.kvCache, 2 * 24 * 1024 * 2 * 64 * 4, "0.5B: 24 layers, 2 kv heads of 64")
        XCTAssertLessThan(half.activations, full.activations)
        XCTAssertEqual(half.weights, full.weights)
    }
}
