import XCTest
@testable import FastVLM

/// A down-scaled synthetic model (full FastViTHD depths, narrow widths, small image; a small
/// Qwen2) run through the CPU reference: every intermediate stays finite and of order one.
/// (At 128x128 the last stages' maps are 4x4 and 2x2, so zero padding of the 7x7 convs shrinks
/// activations more than at 1024x1024, where synthetic-0.5b measures rms 0.4..3.6 at every op.)
final class SyntheticForwardTests: XCTestCase {
    /// FastViTHD's real depths and kernels at width 16..256 and 128x128 input (4 image tokens).
    static func smallVision() throws -> FastViTHDGeometry {
        try FastViTHDGeometry(imageSize: 128, stemWidth: 16, depths: [2, 12, 24, 4, 2], firstAttentionStage: 3, seWidth: 32)
    }

    static let smallText = Qwen2Config(hiddenSize: 64, layers: 6, heads: 4, kvHeads: 2, headDim: 16, intermediateSize: 160,
                                       vocabSize: 152_000, realVocabSize: 152_000, ropeTheta: 1e6, rmsNormEps: 1e-6, maxPositions: 4096)

    /// Root mean square and largest magnitude of every op's output, by key.
    final class Recorder {
        var rows: [(key: String, rms: Float, maxAbs: Float, finite: Bool)] = []
        func record(_ key: String, _ values: [Float]) {
            let finite = values.allSatisfy(\.isFinite)
            let rms = (values.reduce(0) { $0 + $1 * $1 } / Float(max(1, values.count))).squareRoot()
            rows.append((key, rms, values.map(abs).max() ?? 0, finite))
        }
    }

    struct RecordingVision: VisionBackend {
        let cpu = CPUVisionBackend()
        let recorder: Recorder
        func conv(_ x: HostMap, _ w: ConvWeights, key: String, gelu: Bool) throws -> HostMap {
            let y = try cpu.conv(x, w, key: key, gelu: gelu); recorder.record(key, y.values); return y
        }
        func pointwise(_ x: HostMap, _ w: LinearWeights, key: String, gelu: Bool, scale: [Float]?, residual: HostMap?) throws -> HostMap {
            let y = try cpu.pointwise(x, w, key: key, gelu: gelu, scale: scale, residual: residual); recorder.record(key, y.values); return y
        }
        func layerNormChannels(_ x: HostMap, _ norm: NormWeights, key: String) throws -> HostMap {
            try cpu.layerNormChannels(x, norm, key: key)
        }
        func attention(_ x: HostMap, qkv: LinearWeights, proj: LinearWeights, key: String, scale: [Float], residual: HostMap) throws -> HostMap {
            let y = try cpu.attention(x, qkv: qkv, proj: proj, key: key, scale: scale, residual: residual); recorder.record(key, y.values); return y
        }
        func squeezeExciteGELU(_ x: HostMap, reduce: LinearWeights, expand: LinearWeights, key: String) throws -> HostMap {
            let y = try cpu.squeezeExciteGELU(x, reduce: reduce, expand: expand, key: key); recorder.record(key, y.values); return y
        }
        func tokens(_ x: HostMap) throws -> HostMap { try cpu.tokens(x) }
    }

    func testDownScaledModelStaysFiniteAndOfOrderOne() throws {
        let vision = try Self.smallVision()
        let w = SyntheticWeights.build(vision: vision, text: Self.smallText, tiedEmbeddings: true, seed: 3)
        let recorder = Recorder()
        let s = vision.imageSize
        let pixels = SyntheticRandom.values(3 * s * s, mean: 0.5, std: 0.14, seed: 1)
        let features = try FastViTHD.forward(w.vision, pixels: HostMap(values: pixels, channels: 3, height: s, width: s),
                                             on: RecordingVision(recorder: recorder))
        XCTAssertEqual([features.height, features.channels], [4, 512])
        let projected = try w.projector.forwardCPU(features.values, count: features.height)
        recorder.record("projector", projected)

        let prompt = try SyntheticPrompt.chat(textTokens: 30, imageTokens: vision.tokenCount)
        let rows = try w.language.embed(prompt, image: projected)
        let logits = try Qwen2.forward(w.language, embeddings: HostRows(values: rows, rows: prompt.count, width: 64),
                                       on: CPULanguageBackend(config: Self.smallText)).values
        recorder.record("logits", logits)

        for row in recorder.rows {
            XCTAssertTrue(row.finite, "\(row.key) has non-finite values")
            XCTAssertGreaterThan(row.rms, 1e-2, "\(row.key) rms \(row.rms) collapsed")
            XCTAssertLessThan(row.rms, 10, "\(row.key) rms \(row.rms) blew up")
            XCTAssertLessThan(row.maxAbs, 100, "\(row.key) max \(row.maxAbs)")
        }
        // Logits spread enough that greedy choice is not a tie.
        let sorted = logits.sorted(by: >)
        XCTAssertGreaterThan(sorted[0] - sorted[1], 0)
    }

    /// What the builder allocates is what it counts, and the seed decides every value.
    func testBuiltArraysMatchTheCountAndTheSeed() throws {
        let vision = try FastViTHDGeometry(imageSize: 128, stemWidth: 32, depths: [1, 1, 1, 1, 1], firstAttentionStage: 3, seWidth: 16)
        let text = Qwen2Config(hiddenSize: 32, layers: 2, heads: 2, kvHeads: 1, headDim: 16, intermediateSize: 48,
                               vocabSize: 100, realVocabSize: 100, ropeTheta: 1e6, rmsNormEps: 1e-6, maxPositions: 512)
        for tied in [true, false] {
            let w = SyntheticWeights.build(vision: vision, text: text, tiedEmbeddings: tied, seed: 5)
            let counted = SyntheticWeights.parameterCount(vision: vision, text: text, tiedEmbeddings: tied)
            XCTAssertEqual(Self.arrayElements(w) - (tied ? w.language.lmHead.count : 0), counted)
            XCTAssertEqual(w.language.tiedEmbeddings, tied)
        }
        let a = SyntheticWeights.build(vision: vision, text: text, tiedEmbeddings: true, seed: 5)
        let b = SyntheticWeights.build(vision: vision, text: text, tiedEmbeddings: true, seed: 5)
        let c = SyntheticWeights.build(vision: vision, text: text, tiedEmbeddings: true, seed: 6)
        XCTAssertEqual(try a.language.layers[1].down.weight.floats(), try b.language.layers[1].down.weight.floats())
        XCTAssertEqual(try a.vision.convExp.weight.floats(), try b.vision.convExp.weight.floats())
        XCTAssertNotEqual(try a.vision.convExp.weight.floats(), try c.vision.convExp.weight.floats())
        // A generated tensor read in pieces gives the values read whole (uploads go piece by piece).
        let embed = a.language.embedTokens
        XCTAssertEqual(try embed.rows(0..<37) + embed.rows(37..<embed.rows), try embed.floats())
        // Fused RepMixer convs carry the identity: centre tap near 1, the rest near 0.
        guard case .repMixer(let r) = a.vision.stages[0].blocks[0] else { return XCTFail("stage 0 is RepMixer") }
        let mixer = try r.mixer.weight.floats()
        XCTAssertEqual(mixer[4], 1, accuracy: 0.2)
        XCTAssertEqual(mixer[0], 0, accuracy: 0.2)
    }

    static func arrayElements(_ w: FastVLMWeights) -> Int {
        func conv(_ c: ConvWeights) -> Int { c.weight.count + (c.bias?.count ?? 0) }
        func linear(_ l: LinearWeights) -> Int { l.weight.count + (l.bias?.count ?? 0) }
        func ffn(_ f: FastViTHDWeights.ConvFFN) -> Int { conv(f.depthwise) + linear(f.fc1) + linear(f.fc2) }
        var n = w.vision.stem.map(conv).reduce(0, +) + conv(w.vision.convExp) + linear(w.vision.seReduce) + linear(w.vision.seExpand)
        for stage in w.vision.stages {
            if let d = stage.downsample { n += conv(d.conv) + conv(d.pointwise) }
            if let p = stage.positionEmbedding { n += conv(p) }
            for block in stage.blocks {
                switch block {
                case .repMixer(let r): n += conv(r.mixer) + ffn(r.ffn) + r.layerScale.count
                case .attention(let a):
                    n += a.norm.weight.count + (a.norm.bias?.count ?? 0) + linear(a.qkv) + linear(a.proj) + ffn(a.ffn)
                    n += a.layerScale1.count + a.layerScale2.count
                }
            }
        }
        n += linear(w.projector.fc1) + linear(w.projector.fc2)
        let l = w.language
        n += l.embedTokens.count + l.norm.count + l.lmHead.count
        for layer in l.layers {
            n += layer.inputNorm.count + layer.postAttentionNorm.count
            n += [layer.q, layer.k, layer.v, layer.o, layer.gate, layer.up, layer.down].map(linear).reduce(0, +)
        }
        return n
    }
}
