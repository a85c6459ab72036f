import XCTest
import GPUTestSupport
import Ops
import VulkanCore
@testable import FastVLM

/// The GPU decoder against the CPU reference at the released models' attention shapes, which
/// the tiny fixtures (head dim 16) do not reach: head dim 64 with 7 query heads per kv head
/// (0.5B) and head dim 128 with 7 per kv head (7B), a prompt long enough for the flash
/// prefill kernel, chunked prefill with the image rows split across chunks, then decode.
final class GPULanguageRealShapesTests: ValidatedDeviceTestCase {
    /// fp16 `storage` (rows and KV cache): logits within 5e-3 of the fp32 reference's range.
    func check(hidden: Int, heads: Int, kvHeads: Int, headDim: Int, vocab: Int, seed: UInt64, storage: StorageType = .f32) throws {
        let config = Qwen2Config(hiddenSize: hidden, layers: 2, heads: heads, kvHeads: kvHeads, headDim: headDim, intermediateSize: 384,
                                 vocabSize: vocab, realVocabSize: vocab, ropeTheta: 1e6, rmsNormEps: 1e-6, maxPositions: 1024)
        let weights = SyntheticWeights.build(vision: try SyntheticForwardTests.smallVision(), text: config, tiedEmbeddings: true, seed: seed).language
        // 30 text ids, 60 image rows, 40 text ids: 130 positions in chunks of 48.
        let ids = TestTokenIDs.make(70, vocab: vocab, seed: seed)
        let prompt = SplicedPrompt(slots: ids.prefix(30).map { Optional($0) } + Array(repeating: nil, count: 60) + ids.suffix(40).map { Optional($0) })
        let image = randomRows(60 * hidden, seed: seed + 1)

        let cpu = CPULanguageSession(weights: weights, sampleVocabulary: vocab)
        let gpu = try GPULanguageModel(device: device, weights: weights, formats: .language(.f32, sixteenBit: .f16), capacity: 160, sampleVocabulary: vocab, prefillChunk: 48,
                                       activations: storage, kvCache: storage)
        let tolerance: Float = storage == .f16 ? 5e-3 : 1e-4
        let rows = try device.upload(image)
        var (rc, rg) = (SplitMix64(seed: 0), SplitMix64(seed: 0))
        var cpuToken = try cpu.prefill(prompt, image: .host(image), sampling: SamplingParameters(), rng: &rc)
        var gpuToken = try gpu.prefill(prompt, image: rows.view, sampling: SamplingParameters(), rng: &rg)
        let shape = "hd \(headDim), \(heads)/\(kvHeads) heads, \(storage) storage"
        XCTAssertLessThanOrEqual(normalisedMaxError(try gpu.lastLogits(), try cpu.lastLogits()), tolerance, "prefill logits, \(shape)")
        XCTAssertEqual(gpuToken, cpuToken, "prefill token, \(shape)")
        for step in 0..<4 {
            // Both fed the CPU's token, so one near-tie cannot make the two runs diverge.
            let fed = cpuToken
            cpuToken = try cpu.decode(fed, sampling: SamplingParameters(), rng: &rc)
            gpuToken = try gpu.decode(fed, sampling: SamplingParameters(), rng: &rg)
            XCTAssertLessThanOrEqual(normalisedMaxError(try gpu.lastLogits(), try cpu.lastLogits()), tolerance, "decode step \(step), \(shape)")
        }
        XCTAssertEqual(gpu.length, prompt.count + 4)
    }

    func testQwen05BAttentionShape() throws { try check(hidden: 896, heads: 14, kvHeads: 2, headDim: 64, vocab: 1000, seed: 11) }
    func testQwen7BAttentionShape() throws { try check(hidden: 896, heads: 7, kvHeads: 1, headDim: 128, vocab: 777, seed: 12) }
    func testQwen05BAttentionShapeHalfStorage() throws { try check(hidden: 896, heads: 14, kvHeads: 2, headDim: 64, vocab: 1000, seed: 11, storage: .f16) }
    func testQwen7BAttentionShapeHalfStorage() throws { try check(hidden: 896, heads: 7, kvHeads: 1, headDim: 128, vocab: 777, seed: 12, storage: .f16) }

    func randomRows(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.nextUnit() * 2 - 1 }
    }
}

/// Deterministic token ids below `vocab`.
enum TestTokenIDs {
    static func make(_ count: Int, vocab: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int(rng.next() % UInt64(vocab)) }
    }
}
