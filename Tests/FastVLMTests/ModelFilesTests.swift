import XCTest
@testable import FastVLM

/// Checkpoint loading: both layouts agree, and bad files get errors that name the file and field.
final class ModelFilesTests: XCTestCase {
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appending(path: "fastvlm-files-\(getpid())-\(name.hashValue)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temp) }

    func testBothLayoutsLoadIntoTheSameDescription() throws {
        let apple = try LoadedModel(folder: Fixtures.apple), hf = try LoadedModel(folder: Fixtures.hf)
        XCTAssertEqual(apple.config.imageSize, hf.config.imageSize)
        XCTAssertEqual(apple.weights.vision.stages.count, hf.weights.vision.stages.count)
        for (a, b) in zip(apple.weights.vision.stages, hf.weights.vision.stages) {
            XCTAssertEqual(a.blocks.count, b.blocks.count)
            XCTAssertEqual(a.downsample == nil, b.downsample == nil)
            XCTAssertEqual(a.positionEmbedding == nil, b.positionEmbedding == nil)
        }
        XCTAssertEqual(try apple.weights.vision.convExp.weight.floats(), try hf.weights.vision.convExp.weight.floats())
        XCTAssertEqual(apple.weights.vision.convExp.groups, apple.weights.vision.convExp.inChannels)
        // Apple stores lm_head with the embedding's values: tied, like HF's omitted head.
        XCTAssertTrue(apple.weights.language.tiedEmbeddings)
        XCTAssertTrue(hf.weights.language.tiedEmbeddings)
        XCTAssertEqual(try apple.weights.projector.fc1.weight.floats(), try hf.weights.projector.fc1.weight.floats())
        var ta = apple.weights.language.config, tb = hf.weights.language.config
        XCTAssertNotEqual(ta.vocabSize, tb.vocabSize)   // HF pads the vocabulary
        (ta.vocabSize, tb.vocabSize, ta.realVocabSize, tb.realVocabSize) = (0, 0, 0, 0)
        XCTAssertEqual(ta, tb)
        // Rows past the real vocabulary are padding (stored in bf16 by Apple, fp32 by HF).
        let rows = try Fixtures.golden().sample_vocab
        XCTAssertEqual(try apple.weights.language.embedTokens.rows(0..<rows), try hf.weights.language.embedTokens.rows(0..<rows))
        XCTAssertEqual(try apple.weights.language.layers[1].down.weight.floats(), try hf.weights.language.layers[1].down.weight.floats())
    }

    /// A safetensors file from a header object and raw data.
    func writeSafetensors(_ header: String, data: [UInt8], name: String = "model.safetensors", declaredLength: UInt64? = nil) throws -> URL {
        let h = Array(header.utf8)
        var bytes = withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian, Array.init)
        bytes += h + data
        let url = temp.appending(path: name)
        try Data(bytes).write(to: url)
        return url
    }

    func expectError(_ url: URL, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafetensorsFile(url: url), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(url.lastPathComponent), "no file name in: \(error)", file: file, line: line)
        }
    }

    func testValidFileReads() throws {
        let url = try writeSafetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [Float(1.5), -2].withUnsafeBytes { Array($0) })
        XCTAssertEqual(try SafetensorsFile(url: url).tensors["a"]?.floats(), [1.5, -2])
    }

    func testTruncatedFile() throws {
        expectError(try writeSafetensors(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0]), "outside")
        let url = temp.appending(path: "tiny.safetensors")
        try Data([1, 2, 3]).write(to: url)
        expectError(url, "truncated")
    }

    func testHeaderLengthBeyondTheFile() throws {
        expectError(try writeSafetensors("{}", data: [], declaredLength: 1_000_000), "past the end")
    }

    func testOverlappingOffsets() throws {
        expectError(try writeSafetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                         data: [UInt8](repeating: 0, count: 12)), "overlap")
    }

    func testWrongDtypeAndShape() throws {
        expectError(try writeSafetensors(#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "F64")
        expectError(try writeSafetensors(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "shape")
        expectError(try writeSafetensors("not json", data: []), "JSON")
    }

    func copyFixture(_ folder: URL) throws -> URL {
        let copy = temp.appending(path: folder.lastPathComponent)
        try FileManager.default.copyItem(at: folder, to: copy)
        return copy
    }

    func testMissingTensorIsNamed() throws {
        let folder = try copyFixture(Fixtures.hf)
        let store = try TensorStore(folder: folder)
        // Rewrite the checkpoint without one tensor.
        let victim = "model.language_model.layers.1.mlp.up_proj.weight"
        var header: [String: Any] = [:]
        var data: [UInt8] = []
        for (name, e) in store.entries.sorted(by: { $0.key < $1.key }) where name != victim && e.dtype == .f32 {
            let values = try e.floats()
            header[name] = ["dtype": "F32", "shape": e.shape, "data_offsets": [data.count, data.count + values.count * 4]]
            data += values.withUnsafeBytes { Array($0) }
        }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: header), as: UTF8.self)
        _ = try writeSafetensors(json, data: data, name: "tiny-hf/model.safetensors")
        XCTAssertThrowsError(try LoadedModel(folder: folder)) { XCTAssertTrue("\($0)".contains(victim), "\($0)") }
    }

    func testUnknownModelType() throws {
        let folder = try copyFixture(Fixtures.apple)
        let config = folder.appending(path: "config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "llava_qwen2", with: "mystery_vlm")
        try text.write(to: config, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LoadedModel(folder: folder)) {
            XCTAssertTrue("\($0)".contains("config.json") && "\($0)".contains("mystery_vlm"), "\($0)")
        }
    }

    func testEmptyPromptIsRejected() throws {
        let pipeline = try FastVLMPipeline(folder: Fixtures.apple)
        XCTAssertThrowsError(try pipeline.promptIDs(GenerationRequest(prompt: " \n "))) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
    }

    /// A pasted document far over the context is refused from its length, before it is tokenized
    /// or anything is loaded onto the device.
    func testOversizedPromptIsRefusedBeforeTokenizing() throws {
        var request = GenerationRequest(prompt: String(repeating: "x", count: 4 << 20))
        request.pixelValues = Fixtures.goldens.appending(path: "pixel_values.npy")
        XCTAssertThrowsError(try FastVLMPipeline(folder: Fixtures.apple, sizedFor: request)) {
            XCTAssertTrue("\($0)".contains("cannot fit the model's context"), "\($0)")
        }
    }
}
