import XCTest
import GPUTestSupport
import Ops
import VulkanCore
@testable import FastVLM

/// The device memory plan is made from shapes alone, before any upload: it must agree with
/// what the uploads really take, bound the whole run, and refuse what does not fit.
final class MemoryPlanTests: ValidatedDeviceTestCase {
    /// Weight bytes as planned equal the bytes uploaded (within the alignment padding), and the
    /// planned total bounds the device memory a whole generation used.
    func testPlanMatchesTheUploadsAndBoundsTheRun() throws {
        for folder in [Fixtures.apple, Fixtures.hf] {
            for format in WeightFormat.allCases {
                var runtime = RuntimeOptions()
                runtime.weights = .format(format)
                let pipeline = try FastVLMPipeline(folder: folder, runtime: runtime)
                var request = GenerationRequest(prompt: "Describe the image.")
                request.pixelValues = Fixtures.goldens.appending(path: "pixel_values.npy")
                request.maxTokens = 3
                _ = try pipeline.generate(request)
                let plan = try XCTUnwrap(pipeline.memoryPlan)
                let what = "\(folder.lastPathComponent) \(format)"
                XCTAssertEqual(plan.format, format, what)
                let uploaded = try XCTUnwrap(pipeline.encoder).weightBytes + (try XCTUnwrap(pipeline.language as? GPULanguageSession)).model.weightBytes
                XCTAssertEqual(Double(plan.weights), Double(uploaded), accuracy: Double(uploaded) * 0.02 + 4096, what)
                XCTAssertGreaterThanOrEqual(plan.total, try XCTUnwrap(pipeline.device).peakBytesInUse, what)
            }
        }
    }

    /// Formats differ in their bytes as the layouts say (the 0.5B geometry, described only).
    func testFormatSizesOfTheHalfBillionModel() {
        let w = SyntheticModel.fastVLM0_5B.weights()
        func plan(_ f: WeightFormat) -> MemoryPlan {
            MemoryPlan.make(w, format: f, sixteenBit: .bf16, activations: .f16, capacity: 1024, prefillChunk: 512, imageSize: 1024)
        }
        let bf16 = plan(.bf16), q8 = plan(.q8), q4 = plan(.q4), f32 = plan(.f32)
        XCTAssertEqual(Double(f32.languageWeights) / Double(bf16.languageWeights), 2, accuracy: 0.01)
        XCTAssertEqual(Double(q8.languageWeights) / Double(bf16.languageWeights), 8.5 / 16, accuracy: 0.01)
        XCTAssertEqual(Double(q4.languageWeights) / Double(bf16.languageWeights), 4.5 / 16, accuracy: 0.01)
        // The vision tower stays 16-bit under a quantized choice.
        XCTAssertEqual(q4.visionWeights, bf16.visionWeights)
        XCTAssertEqual(bf16.kvCache, q4.kvCache)
        // Serving's decode slots each add a cache of the same size; an fp16 cache is half.
        let served = MemoryPlan.make(w, format: .bf16, sixteenBit: .bf16, activations: .f16, capacity: 1024, kvCaches: 5, prefillChunk: 512, imageSize: 1024)
        XCTAssertEqual(served.kvCache, 5 * bf16.kvCache)
        XCTAssertEqual(served.total - bf16.total, 4 * bf16.kvCache)
        let half = MemoryPlan.make(w, format: .bf16, sixteenBit: .bf16, activations: .f16, kvCache: .f16, capacity: 1024, prefillChunk: 512, imageSize: 1024)
        XCTAssertEqual(2 * half.kvCache, bf16.kvCache)
    }

    /// `auto` takes the most accurate format that fits; a format that does not fit is refused
    /// with the figures and the formats that would.
    func testChoiceAndRefusal() throws {
        let w = SyntheticModel.fastVLM0_5B.weights()
        func choose(_ choice: WeightChoice, heap: Int) throws -> MemoryPlan {
            try GPUModel.chooseFormat(w, choice: choice, sixteenBit: .f16, activations: .f16, capacity: 1024, imageSize: 1024,
                                      heap: heap, deviceName: "test device")
        }
        let f16 = try choose(.format(.f16), heap: 1 << 40)
        XCTAssertEqual(try choose(.auto, heap: 1 << 40).format, .f32, "synthetic values are fp32: fp32 first")
        XCTAssertEqual(try choose(.auto, heap: f16.total).format, .f16)
        XCTAssertEqual(try choose(.auto, heap: f16.total - 1).format, .q8)
        XCTAssertThrowsError(try choose(.format(.f16), heap: f16.total - 1)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("\(f16.total >> 20) MiB"), text)
            XCTAssertTrue(text.contains("test device"), text)
            XCTAssertTrue(text.contains("--weights q8, q4"), text)
        }
        XCTAssertThrowsError(try choose(.auto, heap: 1 << 20)) { XCTAssertTrue("\($0)".contains("no weight format fits"), "\($0)") }
    }
}
