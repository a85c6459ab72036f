import XCTest
@testable import FastVLM

/// The synthetic models: geometry and sizes against the spec (counted, never allocated at full
/// size), the memory guard, the prompt, and the random fill.
final class SyntheticModelTests: XCTestCase {
    func testParseNames() {
        XCTAssertEqual(SyntheticModel.parse("synthetic-0.5b"), .fastVLM0_5B)
        XCTAssertEqual(SyntheticModel.parse("Synthetic-1.5B"), .fastVLM1_5B)
        XCTAssertEqual(SyntheticModel.parse("synthetic-7b"), .fastVLM7B)
        XCTAssertNil(SyntheticModel.parse("synthetic-3b"))
        XCTAssertNil(SyntheticModel.parse("apple/FastVLM-0.5B"))
        XCTAssertEqual(SyntheticModel.allCases.map(\.name), ["synthetic-0.5b", "synthetic-1.5b", "synthetic-7b"])
    }

    /// Spec 1.3 and 8.1: widths, depths, 3072x16x16 output, 122.7M parameters (stage by stage).
    func testVisionGeometryMatchesSpec() throws {
        let g = FastViTHDGeometry.fastViTHD
        XCTAssertEqual(g.imageSize, 1024)
        XCTAssertEqual(g.widths, [96, 192, 384, 768, 1536])
        XCTAssertEqual(g.depths, [2, 12, 24, 4, 2])
        XCTAssertEqual((0..<5).map { g.usesAttention(stage: $0) }, [false, false, false, true, true])
        XCTAssertEqual(g.outChannels, 3072)
        XCTAssertEqual(g.tokenCount, 256)
        XCTAssertEqual(g.parameterCount, 122_696_352)
        XCTAssertEqual(Double(g.parameterCount) / 1e6, 122.7, accuracy: 0.05)

        var tensors = SyntheticTensors(seed: 0)
        let w = SyntheticWeightBuilder.vision(g, &tensors)
        XCTAssertEqual(w.stem.map(\.kernel), [3, 3, 1])
        XCTAssertEqual(w.stem.map(\.stride), [2, 2, 1])
        XCTAssertEqual(w.stem.map(\.groups), [1, 96, 1])
        XCTAssertEqual(w.stages.map { $0.blocks.count }, [2, 12, 24, 4, 2])
        XCTAssertEqual(w.stages.map { $0.positionEmbedding != nil }, [false, false, false, true, true])
        XCTAssertEqual(w.stages.map { $0.downsample?.conv.outChannels ?? 0 }, [0, 192, 384, 768, 1536])
        XCTAssertEqual(w.stages[2].downsample?.conv.kernel, 7)
        XCTAssertEqual(w.stages[2].downsample?.conv.groups, 192)
        XCTAssertEqual(w.stages[3].positionEmbedding?.kernel, 7)
        guard case .attention(let a) = w.stages[4].blocks[0], case .repMixer(let r) = w.stages[2].blocks[0] else {
            return XCTFail("wrong block kinds")
        }
        XCTAssertEqual(a.qkv.outFeatures, 3 * 1536)
        XCTAssertNil(a.qkv.bias)
        XCTAssertEqual(a.ffn.fc1.outFeatures, 6144)
        XCTAssertEqual(r.mixer.kernel, 3)
        XCTAssertEqual(r.ffn.depthwise.kernel, 7)
        XCTAssertEqual([w.convExp.outChannels, w.convExp.groups, w.convExp.kernel], [3072, 1536, 3])
        XCTAssertEqual([w.seReduce.outFeatures, w.seExpand.outFeatures], [192, 3072])
    }

    /// Spec section 4 table and section 3 projector widths.
    func testTextConfigsMatchSpec() {
        let expected: [(SyntheticModel, [Int], Bool)] = [
            (.fastVLM0_5B, [896, 24, 14, 2, 64, 4864, 151_936], true),
            (.fastVLM1_5B, [1536, 28, 12, 2, 128, 8960, 151_936], true),
            (.fastVLM7B, [3584, 28, 28, 4, 128, 18944, 152_064], false),
        ]
        for (model, numbers, tied) in expected {
            let c = model.text
            XCTAssertEqual([c.hiddenSize, c.layers, c.heads, c.kvHeads, c.headDim, c.intermediateSize, c.vocabSize], numbers, model.name)
            XCTAssertEqual(c.ropeTheta, 1e6)
            XCTAssertEqual(c.rmsNormEps, 1e-6)
            XCTAssertEqual(c.maxPositions, 32768)
            XCTAssertEqual(model.tiedEmbeddings, tied)
            XCTAssertEqual(model.imageSize, 1024)
            XCTAssertEqual(model.imageTokens, 256)
        }
    }

    /// Whole-model parameter counts from the spec (millions, as rounded there): vision 122.7,
    /// projector 3.56 / 7.08 / 23.86, Qwen2 494.0 / 1543.7 / 7070.6 (+545.0 own LM head for 7B).
    func testParameterCountsMatchSpec() {
        let expectedMillions: [(SyntheticModel, Double)] = [
            (.fastVLM0_5B, 122.7 + 3.56 + 494.0),
            (.fastVLM1_5B, 122.7 + 7.08 + 1543.7),
            (.fastVLM7B, 122.7 + 23.86 + 7070.6 + 545.0),
        ]
        for (model, millions) in expectedMillions {
            XCTAssertEqual(Double(model.parameterCount) / 1e6, millions, accuracy: 0.2, model.name)
        }
        XCTAssertEqual(SyntheticModel.fastVLM0_5B.parameterCount, 620_286_240)
    }

    /// Describing the 7B model holds no weight values: only generated tensors and small vectors.
    func testDescribingSevenBHoldsNoMatrices() throws {
        let w = SyntheticModel.fastVLM7B.weights()
        XCTAssertEqual(w.language.embedTokens.shape, [152_064, 3584])
        XCTAssertFalse(w.language.tiedEmbeddings)
        XCTAssertNil(w.language.layers[0].down.weight.storedFormat)
        XCTAssertEqual(try w.language.layers[0].down.weight.rows(0..<2).count, 2 * 18944)
    }


    func testPromptLayout() throws {
        let prompt = try SyntheticModel.fastVLM0_5B.prompt()
        XCTAssertEqual(prompt.count, 280)   // the spec's reference prompt: 24 text + 256 image
        XCTAssertEqual(prompt.imageRows, 256)
        XCTAssertEqual(Array(prompt.slots.prefix(14)), SyntheticPrompt.head.map { Optional($0) })
        XCTAssertNil(prompt.slots[14])
        XCTAssertEqual(prompt.slots[270], 198)
        XCTAssertEqual(Array(prompt.slots.suffix(5)), [151_645, 198, 151_644, 77091, 198])
        XCTAssertEqual(try SyntheticModel.fastVLM7B.prompt(textTokens: 1000).count, 1256)
        XCTAssertThrowsError(try SyntheticModel.fastVLM0_5B.prompt(textTokens: 5))
        XCTAssertThrowsError(try SyntheticModel.fastVLM0_5B.prompt(textTokens: 40000))
    }

    func testRandomFillIsBellShapedBoundedAndDeterministic() {
        let values = SyntheticRandom.values(300_000, mean: 0.25, std: 0.5, seed: 9)
        let mean = values.reduce(0, +) / Float(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
        XCTAssertEqual(mean, 0.25, accuracy: 0.01)
        XCTAssertEqual(std, 0.5, accuracy: 0.01)
        XCTAssertLessThanOrEqual(values.map { abs($0 - 0.25) }.max() ?? 0, 0.5 * 3.47)
        // Bell-shaped: about 68% within one std (a uniform would give 58%).
        let inside = Float(values.filter { abs($0 - 0.25) < 0.5 }.count) / Float(values.count)
        XCTAssertEqual(inside, 0.66, accuracy: 0.03)
        XCTAssertEqual(values, SyntheticRandom.values(300_000, mean: 0.25, std: 0.5, seed: 9))
        XCTAssertNotEqual(values, SyntheticRandom.values(300_000, mean: 0.25, std: 0.5, seed: 10))
        let pixels = SyntheticPrompt.pixels(size: SyntheticModel.fastVLM0_5B.imageSize)
        XCTAssertEqual(pixels.count, 3 * 1024 * 1024)
        XCTAssertGreaterThanOrEqual(pixels.min() ?? -1, 0)
        XCTAssertLessThanOrEqual(pixels.max() ?? 2, 1)
    }

    func testGeometryValidation() {
        XCTAssertThrowsError(try FastViTHDGeometry(imageSize: 100, stemWidth: 8, depths: [1, 1, 1, 1, 1], firstAttentionStage: 5, seWidth: 4))
        XCTAssertThrowsError(try FastViTHDGeometry(imageSize: 128, stemWidth: 8, depths: [1, 1, 1], firstAttentionStage: 3, seWidth: 4))
        XCTAssertThrowsError(try FastViTHDGeometry(imageSize: 128, stemWidth: 6, depths: [1, 1, 1, 1, 1], firstAttentionStage: 3, seWidth: 4))
        XCTAssertNoThrow(try FastViTHDGeometry(imageSize: 128, stemWidth: 6, depths: [1, 1, 1, 1, 1], firstAttentionStage: 5, seWidth: 4))
    }
}
