import XCTest
import GPUTestSupport
import Ops
import VulkanCore
@testable import FastVLM

/// The batched decode step against the one-sequence decoder: with the same kernels per row,
/// every sequence in a batch gets exactly the tokens it gets alone, whichever slots and
/// positions the others are at, including after moving between slots.
final class BatchedDecoderTests: ValidatedDeviceTestCase {
    /// Prompts of different lengths (text-only, so each starts at its own position).
    let prompts: [[Int]] = [[3, 17, 41, 5], [9, 2, 33, 77, 12, 8, 100], [250, 4], [60, 61, 62, 63, 64, 65, 66, 67, 68, 69], [1]]
    let steps = 6

    func weights() throws -> Qwen2Weights { try LoadedModel(folder: Fixtures.apple).weights.language }

    func model(_ w: Qwen2Weights, _ format: WeightFormat, on device: Device? = nil, storage: StorageType = .f32) throws -> GPULanguageModel {
        try GPULanguageModel(device: device ?? self.device, weights: w, formats: .language(format, sixteenBit: .f16), capacity: 48,
                             sampleVocabulary: w.config.vocabSize, activations: storage, kvCache: storage)
    }

    /// Greedy tokens of each prompt alone: the prefill's choice, then `steps` decode steps.
    func alone(_ lm: GPULanguageModel) throws -> [[Int]] {
        try prompts.map { ids in
            lm.reset()
            var rng = SplitMix64(seed: 0)
            var tokens = [try lm.prefill(SplicedPrompt(slots: ids), image: nil, sampling: SamplingParameters(), rng: &rng)]
            for _ in 0..<steps { tokens.append(try lm.decode(tokens.last!, sampling: SamplingParameters(), rng: &rng)) }
            return tokens
        }
    }

    func checkBatchEqualsAlone(_ format: WeightFormat, on device: Device? = nil, storage: StorageType = .f32) throws {
        let w = try weights()
        let lm = try model(w, format, on: device, storage: storage)
        let expected = try alone(lm)
        let decoder = try BatchedDecoder(model: lm, slots: prompts.count)
        // Prompts go to slots in reverse order, and join one step apart.
        var tokens: [[Int]] = Array(repeating: [], count: prompts.count)
        var slotOf: [Int: Int] = [:]
        var positions = Array(repeating: 0, count: prompts.count)
        for step in 0..<(prompts.count + steps) {
            if step < prompts.count {
                lm.reset()
                var rng = SplitMix64(seed: 0)
                tokens[step] = [try lm.prefill(SplicedPrompt(slots: prompts[step]), image: nil, sampling: SamplingParameters(), rng: &rng)]
                slotOf[step] = prompts.count - 1 - step
                try decoder.take(prefilledPositions: prompts[step].count, into: slotOf[step]!)
                positions[step] = prompts[step].count
            }
            let running = (0..<prompts.count).filter { slotOf[$0] != nil && tokens[$0].count <= steps }
            guard !running.isEmpty else { break }
            let rows = running.map { BatchedDecoder.Row(slot: slotOf[$0]!, token: tokens[$0].last!, position: positions[$0], sampling: SamplingParameters(), draw: 0) }
            for (i, next) in zip(running, try decoder.step(rows)) {
                tokens[i].append(next)
                positions[i] += 1
            }
        }
        XCTAssertEqual(tokens, expected, "\(format)")
    }

    func testBatchEqualsAloneF32() throws { try checkBatchEqualsAlone(.f32) }
    func testBatchEqualsAloneBF16() throws { try checkBatchEqualsAlone(.bf16) }
    func testBatchEqualsAloneQ8() throws { try checkBatchEqualsAlone(.q8) }
    /// The GPU class (fused SwiGLU, norms folded into GEMVs of several rows) with fp16 rows and KV cache.
    func testBatchEqualsAloneGPUKernelsHalfStorage() throws {
        let forced = try Device(validation: true, kernels: .gpu)
        try checkBatchEqualsAlone(.bf16, on: forced, storage: .f16)
        try checkBatchEqualsAlone(.q8, on: forced, storage: .f32)
    }

    /// A sequence moved to another slot between steps continues exactly as if it had stayed.
    func testMovedSequenceContinues() throws {
        let w = try weights()
        let lm = try model(w, .f32)
        let expected = try alone(lm)
        let decoder = try BatchedDecoder(model: lm, slots: 3)
        try decoder.recordGreedySteps()
        var rng = SplitMix64(seed: 0)
        lm.reset()
        var tokens = [try lm.prefill(SplicedPrompt(slots: prompts[1]), image: nil, sampling: SamplingParameters(), rng: &rng)]
        try decoder.take(prefilledPositions: prompts[1].count, into: 2)
        var slot = 2
        for step in 0..<steps {
            if step == 3 {
                try decoder.move(prompts[1].count + step, from: slot, to: 0)
                slot = 0
            }
            let row = BatchedDecoder.Row(slot: slot, token: tokens.last!, position: prompts[1].count + step, sampling: SamplingParameters(), draw: 0)
            tokens += try decoder.step([row])
        }
        XCTAssertEqual(tokens, expected[1])
    }

    func testBadStepsAreRefused() throws {
        let w = try weights()
        let decoder = try BatchedDecoder(model: try model(w, .f32), slots: 2)
        let row = { (slot: Int, token: Int, position: Int) in BatchedDecoder.Row(slot: slot, token: token, position: position, sampling: SamplingParameters(), draw: 0) }
        XCTAssertThrowsError(try decoder.step([row(0, 1, 0), row(0, 2, 0)]))
        XCTAssertThrowsError(try decoder.step([row(2, 1, 0)]))
        XCTAssertThrowsError(try decoder.step([row(0, w.config.vocabSize, 0)]))
        XCTAssertThrowsError(try decoder.step([row(0, 1, 48)]))
        XCTAssertThrowsError(try BatchedDecoder(model: try model(w, .f32), slots: BatchedDecoder.maxSlots + 1))
    }
}
