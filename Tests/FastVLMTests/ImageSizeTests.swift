import XCTest
import GPUTestSupport
import Ops
import VulkanCore
@testable import FastVLM

/// The tiny model at input sizes other than its checkpoint's 128 (goldens/size<S>: transformers
/// run at the same size): the CPU reference, the GPU encoder and the whole pipeline, whose
/// prompt then carries (S/64)^2 image rows.
final class ImageSizeTests: ValidatedDeviceTestCase {
    static let sizes = [64, 192, 256]

    struct SizedGolden: Decodable {
        let image_size: Int
        let image_tokens: Int
        let hf_input_ids: [Int]
    }

    func golden(_ s: Int) throws -> (SizedGolden, URL) {
        let folder = Fixtures.goldens.appending(path: "size\(s)")
        return (try JSONDecoder().decode(SizedGolden.self, from: Data(contentsOf: folder.appending(path: "golden.json"))), folder)
    }

    func npy(_ folder: URL, _ name: String) throws -> [Float] { try NPY.read(folder.appending(path: name)).values }

    func testCPUReferenceMatchesTransformersAtOtherSizes() throws {
        let model = try LoadedModel(folder: Fixtures.apple)
        XCTAssertFalse(Self.sizes.contains(model.config.imageSize), "the sizes must differ from the checkpoint's")
        for s in Self.sizes {
            let (g, folder) = try golden(s)
            XCTAssertEqual(g.image_tokens, ImageSize.tokens(s))
            let map = try FastViTHD.forward(model.weights.vision, pixels: HostMap(values: try npy(folder, "pixel_values.npy"), channels: 3, height: s, width: s),
                                            on: CPUVisionBackend())
            XCTAssertEqual(map.height, g.image_tokens, "\(s): tokens")
            XCTAssertLessThanOrEqual(normalisedMaxError(map.values, try npy(folder, "vision_features.npy")), 1e-4, "\(s): vision features")
            let projected = try model.weights.projector.forwardCPU(map.values, count: map.height)
            XCTAssertLessThanOrEqual(normalisedMaxError(projected, try npy(folder, "projector_out.npy")), 1e-4, "\(s): projector")
        }
    }

    /// fp32 storage: summation order only (1e-4); fp16 activations round every map (1e-2).
    func testGPUEncoderMatchesTransformersAtOtherSizes() throws {
        let model = try LoadedModel(folder: Fixtures.hf)
        for s in Self.sizes {
            let (g, folder) = try golden(s)
            for activations in [StorageType.f32, .f16] {
                let encoder = try GPUVisionEncoder(device: device, vision: model.weights.vision, projector: model.weights.projector,
                                                   formats: .vision(.f32, sixteenBit: .f16), activationType: activations, imageSize: s)
                XCTAssertEqual(encoder.tokenCount, g.image_tokens)
                try encoder.encode(pixels: try npy(folder, "pixel_values.npy"))
                try encoder.project()
                let tolerance: Float = activations == .f32 ? 1e-4 : 1e-2
                let features = normalisedMaxError(try encoder.downloadFeatures(), try npy(folder, "vision_features.npy"))
                let projected = normalisedMaxError(try encoder.downloadProjected(), try npy(folder, "projector_out.npy"))
                XCTAssertLessThanOrEqual(features, tolerance, "\(s) \(activations): vision features")
                XCTAssertLessThanOrEqual(projected, tolerance, "\(s) \(activations): projector")
            }
        }
    }

    /// Both backends through the pipeline with `imageSize`: the prompt holds (S/64)^2 image rows
    /// and the last logits match transformers at that size.
    func testPipelineAtOtherSizesMatchesTransformers() throws {
        for backend in RuntimeOptions.Backend.allCases {
            for folderURL in [Fixtures.apple, Fixtures.hf] {
                for s in [64, 256] {
                    let (g, folder) = try golden(s)
                    var runtime = RuntimeOptions()
                    runtime.backend = backend
                    runtime.weights = .format(.f32)
                    runtime.activationType = .f32
                    runtime.imageSize = s
                    let pipeline = try FastVLMPipeline(folder: folderURL, runtime: runtime)
                    XCTAssertEqual(pipeline.imageTokens, g.image_tokens)
                    var request = GenerationRequest(prompt: try Fixtures.golden().prompt)
                    request.pixelValues = folder.appending(path: "pixel_values.npy")
                    let prompt = try pipeline.promptIDs(request)
                    XCTAssertEqual(prompt.count, g.hf_input_ids.count, "\(backend) \(s): prompt length")
                    var t = Timings()
                    let rows = try pipeline.encodeImage(try pipeline.pixels(request), timings: &t, dump: nil)
                    var rng = SplitMix64(seed: 0)
                    pipeline.language.reset()
                    _ = try pipeline.language.prefill(prompt, image: rows, sampling: SamplingParameters(), rng: &rng)
                    let golden = try npy(folder, "logits_last.npy")
                    let logits = Array(try pipeline.language.lastLogits().prefix(golden.count))
                    XCTAssertLessThanOrEqual(normalisedMaxError(logits, golden), 1e-3, "\(backend) \(folderURL.lastPathComponent) \(s): logits")
                }
            }
        }
    }

    func testSizesThatAreNotMultiplesOf64AreRefused() throws {
        let model = try LoadedModel(folder: Fixtures.apple)
        for s in [0, 100, 32, 4160, -64] {
            XCTAssertThrowsError(try ImageSize.check(s), "\(s)") { XCTAssertTrue("\($0)".contains("multiple of 64"), "\($0)") }
            XCTAssertThrowsError(try GPUVisionEncoder(device: device, vision: model.weights.vision, projector: model.weights.projector,
                                                      formats: .vision(.f32, sixteenBit: .f16), imageSize: s), "\(s)")
        }
        var runtime = RuntimeOptions()
        runtime.backend = .cpu
        runtime.imageSize = 96
        XCTAssertThrowsError(try FastVLMPipeline(folder: Fixtures.apple, runtime: runtime))
    }

    /// The largest binding at a size comes from the forward pass on shapes: for the tiny model
    /// the fp32 input image (3 x S x S x 4 bytes), so 128 MiB holds S = 3328 and not 3392.
    func testBindingPlanBoundsTheSizeADeviceCanHold() throws {
        let vision = try LoadedModel(folder: Fixtures.apple).weights.vision
        let plan = try VisionBindingPlan(vision, size: 4096, elementBytes: 4)
        XCTAssertEqual(plan.largest.bytes, 3 * 4096 * 4096 * 4, plan.largest.what)
        XCTAssertEqual(try VisionBindingPlan.largestFitting(vision, below: 4096, elementBytes: 4, limit: 128 << 20), 3328)
        // A map, not the input, is the largest when the tower is wide: 96 channels at S/2 in the stem.
        let wide = try FastViTHDGeometry(imageSize: 256, stemWidth: 96, depths: [0, 0, 0, 0, 0], firstAttentionStage: 5, seWidth: 8)
        let text = Qwen2Config(hiddenSize: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, intermediateSize: 32,
                               vocabSize: 16, realVocabSize: 16, ropeTheta: 1e6, rmsNormEps: 1e-6, maxPositions: 64)
        let w = SyntheticWeights.build(vision: wide, text: text, tiedEmbeddings: true, seed: 1)
        let widePlan = try VisionBindingPlan(w.vision, size: 2048, elementBytes: 2)
        XCTAssertEqual(widePlan.largest.bytes, 96 * 1024 * 1024 * 2, widePlan.largest.what)

        let limit = device.capabilities.maxStorageBufferRange
        let model = try LoadedModel(folder: Fixtures.apple)
        if plan.largest.bytes > limit {
            XCTAssertThrowsError(try GPUVisionEncoder(device: device, vision: vision, projector: model.weights.projector, formats: .vision(.f32, sixteenBit: .f16),
                                                      imageSize: 4096)) {
                XCTAssertTrue("\($0)".contains("binding limit") && "\($0)".contains("largest size that fits"), "\($0)")
            }
        }
    }

    /// Pixel values of another size are refused, naming the size the pipeline runs at.
    func testPixelValuesOfTheWrongSizeAreAClearError() throws {
        var runtime = RuntimeOptions()
        runtime.backend = .cpu
        runtime.imageSize = 192
        let pipeline = try FastVLMPipeline(folder: Fixtures.apple, runtime: runtime)
        var request = GenerationRequest(prompt: "Hi")
        request.pixelValues = Fixtures.goldens.appending(path: "size64/pixel_values.npy")
        XCTAssertThrowsError(try pipeline.pixels(request)) { XCTAssertTrue("\($0)".contains("[1, 3, 192, 192]"), "\($0)") }
    }
}
