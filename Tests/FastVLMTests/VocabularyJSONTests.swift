import Foundation
import XCTest
@testable import FastVLM

/// The hand-written vocab.json reader against Foundation's JSON parser.
final class VocabularyJSONTests: XCTestCase {
    func testMatchesJSONSerializationOnTheFixture() throws {
        let data = try Data(contentsOf: Fixtures.apple.appending(path: "vocab.json"))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: NSNumber]).mapValues(\.intValue)
        XCTAssertEqual(try VocabularyJSON.parse([UInt8](data)), expected)
        XCTAssertGreaterThan(expected.count, 100)
    }

    func testEscapesAndWhitespace() throws {
        let text = #" { "a\"b" : 1 ,"\\\/\b\f\n\r\t":2, "\u0120x":3, "\ud83d\ude00": 4, "é" :5 } "#
        let parsed = try VocabularyJSON.parse(Array(text.utf8))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: NSNumber]).mapValues(\.intValue)
        XCTAssertEqual(parsed, expected)
        XCTAssertEqual(parsed["Ġx"], 3)
        XCTAssertEqual(parsed["😀"], 4)
        XCTAssertEqual(try VocabularyJSON.parse(Array("{}".utf8)), [:])
    }

    func testMalformedInputIsAnErrorNamingTheOffset() {
        for bad in ["", "[]", "{", #"{"a":}"#, #"{"a":-1}"#, #"{"a":1.5}"#, #"{"a":1,}"#, #"{"a" 1}"#, #"{"a":1} x"#,
                    #"{"\ud800":1}"#, #"{"\udc00":1}"#, #"{"\q":1}"#, "{\"a\nb\":1}", #"{"a":99999999999999999999999}"#, #"{"a":1"#] {
            XCTAssertThrowsError(try VocabularyJSON.parse(Array(bad.utf8)), bad) { XCTAssertTrue("\($0)".contains("vocab.json"), "\($0)") }
        }
        XCTAssertThrowsError(try VocabularyJSON.parse([UInt8(ascii: "{"), UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: "1"), UInt8(ascii: "}")]))
    }
}
