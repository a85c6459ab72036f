import XCTest
@testable import Ops

final class PlaceholderTests: XCTestCase {
    func testShaderEmbedded() { XCTAssertFalse(ShaderLibrary.elementwise_add.words.isEmpty) }
}
