import XCTest
@testable import FastVLM

/// Token ids read from tokenizer files are bounded like config sizes.
final class TokenizerFilesTests: XCTestCase {
    func load(_ files: [String: String]) throws -> Tokenizer {
        let folder = FileManager.default.temporaryDirectory.appending(path: "tokenizer-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in files { try Data(text.utf8).write(to: folder.appending(path: name)) }
        return try Tokenizer(folder: folder)
    }

    func testForgedIDsAreRejected() {
        for id in ["9223372036854775807", "-1", "1e300", "2.5"] {
            XCTAssertThrowsError(try load(["vocab.json": "{\"a\": \(id)}", "merges.txt": ""]), id) { error in
                XCTAssertTrue("\(error)".contains("vocab.json: the id of \"a\""), "\(error)")
            }
            XCTAssertThrowsError(try load(["tokenizer.json": "{\"model\": {\"vocab\": {\"a\": 0}}, \"added_tokens\": [{\"id\": \(id), \"content\": \"<x>\"}]}"]), id) { error in
                XCTAssertTrue("\(error)".contains("the id of \"<x>\""), "\(error)")
            }
        }
    }

    func testPlainIDsLoad() throws {
        let tokenizer = try load(["vocab.json": "{\"a\": 0, \"b\": 1, \"ab\": 2}", "merges.txt": "a b\n"])
        XCTAssertEqual(tokenizer.vocabularySize, 3)
        XCTAssertEqual(tokenizer.encode("ab"), [2])
    }
}
