import XCTest
import Ops
import VulkanCore
@testable import FastVLM

/// The GPU encoder + projector against the CPU reference and transformers' goldens.
final class GPUVisionEncoderTests: GPUModelTestCase {
    /// fp32 weights: only summation order differs (1e-4); fp16 weights round every GEMM and
    /// dense-conv weight to 11 bits, which dominates the error (1e-2).
    func check(_ folder: URL, weights: StorageType) throws {
        let model = try LoadedModel(folder: folder)
        let pixels = try Fixtures.npy("pixel_values.npy").values
        let encoder = try GPUVisionEncoder(device: device, vision: model.weights.vision, projector: model.weights.projector, weightType: weights)
        let tolerance: Float = weights == .f32 ? 1e-4 : 1e-2
        let goldenFeatures = try Fixtures.npy("vision_features.npy").values
        let goldenProjected = try Fixtures.npy("projector_out.npy").values
        // Twice: the recorded sequences replay for a second image with the same result.
        for _ in 0..<2 {
            try encoder.encode(pixels: pixels)
            try encoder.project()
            let features = try encoder.downloadFeatures()
            let projected = try encoder.downloadProjected()
            XCTAssertLessThanOrEqual(normalisedMaxError(features, goldenFeatures), tolerance, "\(folder.lastPathComponent) \(weights) vision features")
            XCTAssertLessThanOrEqual(normalisedMaxError(projected, goldenProjected), tolerance, "\(folder.lastPathComponent) \(weights) projector")
        }
        // A different image: the GPU follows the CPU reference, not a cached answer.
        let other = pixels.reversed().map { $0 * 0.5 }
        try encoder.encode(pixels: other)
        let s = model.config.imageSize
        let cpu = try FastViTHD.forward(model.weights.vision, pixels: HostMap(values: other, channels: 3, height: s, width: s), on: CPUVisionBackend())
        XCTAssertLessThanOrEqual(normalisedMaxError(try encoder.downloadFeatures(), cpu.values), tolerance, "second image")
    }

    func testAppleFP32() throws { try check(Fixtures.apple, weights: .f32) }
    func testAppleFP16() throws { try check(Fixtures.apple, weights: .f16) }
    func testHuggingFaceFP32() throws { try check(Fixtures.hf, weights: .f32) }
    func testHuggingFaceFP16() throws { try check(Fixtures.hf, weights: .f16) }

    /// The fixtures' weights are bf16 values, which fp16 holds exactly; weights off the fp16
    /// grid show what fp16 storage really costs: clearly non-zero, well inside 1e-2.
    func testFP16StorageErrorOnWeightsOffTheHalfGrid() throws {
        let model = try LoadedModel(folder: Fixtures.apple)
        var vision = model.weights.vision, projector = model.weights.projector
        let nudge: (Float) -> Float = { $0 * (1 + 1 / 3000) + 1e-5 }
        vision.stem[0].weight = vision.stem[0].weight.map(nudge)
        projector.fc1.weight = projector.fc1.weight.map(nudge)
        projector.fc2.weight = projector.fc2.weight.map(nudge)
        let pixels = try Fixtures.npy("pixel_values.npy").values
        let s = model.config.imageSize
        let cpu = try FastViTHD.forward(vision, pixels: HostMap(values: pixels, channels: 3, height: s, width: s), on: CPUVisionBackend())
        let expected = projector.forwardCPU(cpu.values, count: cpu.height)
        let encoder = try GPUVisionEncoder(device: device, vision: vision, projector: projector, weightType: .f16)
        try encoder.encode(pixels: pixels)
        try encoder.project()
        let error = normalisedMaxError(try encoder.downloadProjected(), expected)
        XCTAssertGreaterThan(error, 1e-5, "fp16 storage should round these weights")
        XCTAssertLessThanOrEqual(error, 1e-2)
    }

    /// The full 1024x1024 input on a narrow tower (widths 8..128, every stage): the large
    /// early maps, strided grids and the 1024- and 256-token attention that the 128x128
    /// fixtures never reach, GPU against the CPU reference.
    func testFullResolutionNarrowTower() throws {
        let geometry = try FastViTHDGeometry(imageSize: 1024, stemWidth: 8, depths: [1, 1, 1, 1, 1], firstAttentionStage: 3, mlpRatio: 2, seWidth: 8)
        let text = Qwen2Config(hiddenSize: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, intermediateSize: 32,
                               vocabSize: 16, realVocabSize: 16, ropeTheta: 1e6, rmsNormEps: 1e-6, maxPositions: 64)
        let w = SyntheticWeights.build(vision: geometry, text: text, tiedEmbeddings: true, seed: 21)
        let pixels = SyntheticPrompt.pixels(size: 1024, seed: 2)
        let cpu = try FastViTHD.forward(w.vision, pixels: HostMap(values: pixels, channels: 3, height: 1024, width: 1024), on: CPUVisionBackend())
        let encoder = try GPUVisionEncoder(device: device, vision: w.vision, projector: w.projector, weightType: .f32)
        try encoder.encode(pixels: pixels)
        XCTAssertEqual(encoder.tokenCount, 256)
        XCTAssertLessThanOrEqual(normalisedMaxError(try encoder.downloadFeatures(), cpu.values), 1e-4)
    }

    func testWrongPixelCountIsAnError() throws {
        let model = try LoadedModel(folder: Fixtures.apple)
        let encoder = try GPUVisionEncoder(device: device, vision: model.weights.vision, projector: model.weights.projector, weightType: .f16)
        XCTAssertThrowsError(try encoder.encode(pixels: [1, 2, 3]))
    }
}
