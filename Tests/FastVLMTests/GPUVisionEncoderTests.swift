import XCTest
import GPUTestSupport
import Ops
import VulkanCore
@testable import FastVLM

/// The GPU encoder + projector against the CPU reference and transformers' goldens.
final class GPUVisionEncoderTests: ValidatedDeviceTestCase {
    /// fp32 weights and activations: only summation order differs (1e-4); fp16 weights round
    /// every GEMM and dense-conv weight to 11 bits, fp16 activations every map the tower and
    /// projector store, either of which dominates the error (1e-2).
    func check(_ folder: URL, weights: WeightFormat, activations: StorageType = .f32, on other: Device? = nil) throws {
        let device = other ?? self.device!
        let model = try LoadedModel(folder: folder)
        let pixels = try Fixtures.npy("pixel_values.npy").values
        let encoder = try GPUVisionEncoder(device: device, vision: model.weights.vision, projector: model.weights.projector, formats: .vision(weights, sixteenBit: .bf16),
                                           activationType: activations)
        // bf16 and fp32 hold the fixtures' bf16 values exactly.
        let tolerance: Float = weights != .f16 && activations == .f32 ? 1e-4 : 1e-2
        let what = "\(folder.lastPathComponent) \(weights) weights \(activations) activations"
        let goldenFeatures = try Fixtures.npy("vision_features.npy").values
        let goldenProjected = try Fixtures.npy("projector_out.npy").values
        // Twice: the recorded sequences replay for a second image with the same result.
        for _ in 0..<2 {
            try encoder.encode(pixels: pixels)
            try encoder.project()
            let features = try encoder.downloadFeatures()
            let projected = try encoder.downloadProjected()
            let (featureError, projectedError) = (normalisedMaxError(features, goldenFeatures), normalisedMaxError(projected, goldenProjected))
            XCTAssertLessThanOrEqual(featureError, tolerance, "\(what): vision features error \(featureError)")
            XCTAssertLessThanOrEqual(projectedError, tolerance, "\(what): projector error \(projectedError)")
            if activations == .f16 {
                // fp32 maps give about 3e-6 here: fp16 maps must round visibly, or they were not fp16.
                XCTAssertGreaterThan(projectedError, 1e-4, "\(what): fp16 maps should round the result")
            }
        }
        // A different image: the GPU follows the CPU reference, not a cached answer.
        let other = pixels.reversed().map { $0 * 0.5 }
        try encoder.encode(pixels: other)
        let s = model.config.imageSize
        let cpu = try FastViTHD.forward(model.weights.vision, pixels: HostMap(values: other, channels: 3, height: s, width: s), on: CPUVisionBackend())
        let error = normalisedMaxError(try encoder.downloadFeatures(), cpu.values)
        XCTAssertLessThanOrEqual(error, tolerance, "\(what): second image error \(error)")
    }

    func testAppleFP32() throws { try check(Fixtures.apple, weights: .f32) }
    /// Each kernel class forced (GPU: staged attention, 4x1 tiles; CPU: direct, large tiles), both layouts.
    func testForcedKernelClasses() throws {
        for kernels in [KernelChoice.gpu, .cpu] {
            let forced = try Device(validation: true, kernels: kernels)
            for folder in [Fixtures.apple, Fixtures.hf] {
                try check(folder, weights: .f32, on: forced)
                try check(folder, weights: .f16, activations: .f16, on: forced)
            }
        }
    }
    func testAppleFP16() throws { try check(Fixtures.apple, weights: .f16) }
    func testHuggingFaceFP32() throws { try check(Fixtures.hf, weights: .f32) }
    func testAppleBF16() throws { try check(Fixtures.apple, weights: .bf16) }
    func testHuggingFaceBF16() throws { try check(Fixtures.hf, weights: .bf16) }
    /// A quantized choice keeps the vision tower 16-bit (here the checkpoint's bf16), so it is exact too.
    func testAppleQ4KeepsTheVisionTowerSixteenBit() throws { try check(Fixtures.apple, weights: .q4) }
    func testHuggingFaceFP16() throws { try check(Fixtures.hf, weights: .f16) }
    /// The product's default on devices with 16-bit storage: fp16 weights and activations.
    func testAppleFP16Activations() throws { try check(Fixtures.apple, weights: .f16, activations: .f16) }
    func testHuggingFaceFP16Activations() throws { try check(Fixtures.hf, weights: .f16, activations: .f16) }
    /// fp16 activations alone (fp32 weights, which the fixtures' bf16 values are exactly).
    func testAppleFP16ActivationsFP32Weights() throws { try check(Fixtures.apple, weights: .f32, activations: .f16) }

    /// The fixtures' weights are bf16 values, which fp16 holds exactly; weights off the fp16
    /// grid show what fp16 storage really costs: clearly non-zero, well inside 1e-2.
    func testFP16StorageErrorOnWeightsOffTheHalfGrid() throws {
        let model = try LoadedModel(folder: Fixtures.apple)
        var vision = model.weights.vision, projector = model.weights.projector
        let nudge: (Float) -> Float = { $0 * (1 + 1 / 3000) + 1e-5 }
        vision.stem[0].weight = try vision.stem[0].weight.map(nudge)
        projector.fc1.weight = try projector.fc1.weight.map(nudge)
        projector.fc2.weight = try projector.fc2.weight.map(nudge)
        let pixels = try Fixtures.npy("pixel_values.npy").values
        let s = model.config.imageSize
        let cpu = try FastViTHD.forward(vision, pixels: HostMap(values: pixels, channels: 3, height: s, width: s), on: CPUVisionBackend())
        let expected = try projector.forwardCPU(cpu.values, count: cpu.height)
        let encoder = try GPUVisionEncoder(device: device, vision: vision, projector: projector, formats: .vision(.f16, sixteenBit: .f16))
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
        for activations in [StorageType.f32, .f16] {
            try checkFullResolution(activations: activations)
        }
    }

    func checkFullResolution(activations: StorageType) throws {
        let geometry = try FastViTHDGeometry(imageSize: 1024, stemWidth: 8, depths: [1, 1, 1, 1, 1], firstAttentionStage: 3, mlpRatio: 2, seWidth: 8)
        let text = Qwen2Config(hiddenSize: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, intermediateSize: 32,
                               vocabSize: 16, realVocabSize: 16, ropeTheta: 1e6, rmsNormEps: 1e-6, maxPositions: 64)
        let w = SyntheticWeights.build(vision: geometry, text: text, tiedEmbeddings: true, seed: 21)
        let pixels = SyntheticPrompt.pixels(size: 1024, seed: 2)
        let cpu = try FastViTHD.forward(w.vision, pixels: HostMap(values: pixels, channels: 3, height: 1024, width: 1024), on: CPUVisionBackend())
        let encoder = try GPUVisionEncoder(device: device, vision: w.vision, projector: w.projector, formats: .vision(.f32, sixteenBit: .f16), activationType: activations)
        try encoder.encode(pixels: pixels)
        XCTAssertEqual(encoder.tokenCount, 256)
        let error = normalisedMaxError(try encoder.downloadFeatures(), cpu.values)
        XCTAssertLessThanOrEqual(error, activations == .f32 ? 1e-4 : 1e-2, "\(activations) activations")
    }

    /// fp16 activations by default where the device can store them; an explicit choice wins.
    func testActivationTypeDefaultFollowsTheDevice() throws {
        var caps = device.capabilities
        var runtime = RuntimeOptions()
        caps.storageBuffer16BitAccess = true
        XCTAssertEqual(runtime.activationType(for: caps), .f16)
        caps.storageBuffer16BitAccess = false
        XCTAssertEqual(runtime.activationType(for: caps), .f32)
        runtime.activationType = .f32
        caps.storageBuffer16BitAccess = true
        XCTAssertEqual(runtime.activationType(for: caps), .f32)
    }

    /// Weights that drive the maps past fp16's 65504 give non-finite rows in fp16 storage
    /// (which the pipeline turns into an error naming --activations f32), not in fp32.
    func testFP16OverflowIsDetected() throws {
        let model = try LoadedModel(folder: Fixtures.apple)
        var vision = model.weights.vision
        vision.stem[0].weight = try vision.stem[0].weight.map { $0 * 1e6 }
        let pixels = try Fixtures.npy("pixel_values.npy").values
        for (activations, finite) in [(StorageType.f16, false), (.f32, true)] {
            let encoder = try GPUVisionEncoder(device: device, vision: vision, projector: model.weights.projector, formats: .vision(.f32, sixteenBit: .f16), activationType: activations)
            try encoder.encode(pixels: pixels)
            try encoder.project()
            XCTAssertEqual(try encoder.projectedRowsAreFinite(), finite, "\(activations)")
        }
    }

    func testWrongPixelCountIsAnError() throws {
        let model = try LoadedModel(folder: Fixtures.apple)
        let encoder = try GPUVisionEncoder(device: device, vision: model.weights.vision, projector: model.weights.projector, formats: .vision(.f16, sixteenBit: .f16))
        XCTAssertThrowsError(try encoder.encode(pixels: [1, 2, 3]))
    }
}
