import XCTest
@testable import FastVLM

final class FastVLMPlaceholderTests: XCTestCase {
    func testNothing() {}
}
