import XCTest
import VulkanCore
@testable import Ops

final class ElementwiseOpTests: GPUTestCase {
    let counts = [1, 7, 256, 1000, 65536 + 13]

    func check(_ kind: ElementwiseOp.Kind, reference: (Float, Float) -> Float) throws {
        for (i, n) in counts.enumerated() {
            let a = randomValues(n, seed: UInt64(i + 1), scale: 4)
            let b = randomValues(n, seed: UInt64(i + 100), scale: 4)
            let (ga, gb, gy) = (try buffer(a), try buffer(b), try zeros(n))
            try run { try ElementwiseOp.encode($0, kind, a: ga.view, b: gb.view, y: gy.view, count: n) }
            let expected = zip(a, b).map(reference)
            XCTAssertLessThan(nmse(try read(gy, n), expected), Tolerance.transcendental, "\(kind) n=\(n)")
        }
    }

    func testAdd() throws { try check(.add) { Reference.add($0, $1) } }
    func testMul() throws { try check(.mul) { Reference.mul($0, $1) } }
    func testGELU() throws { try check(.gelu) { a, _ in Reference.gelu(a) } }
    func testSiLU() throws { try check(.silu) { a, _ in Reference.silu(a) } }
}
