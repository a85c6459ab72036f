import XCTest
import VulkanCore
@testable import Ops

final class ElementwiseOpTests: GPUTestCase {
    let counts = [1, 7, 256, 1000, 65536 + 13]

    func check(_ kind: ElementwiseOp.Kind, reference: (Float, Float) -> Float) throws {
        for (i, n) in counts.enumerated() {
            for act in StorageType.allCases {
                var a = randomValues(n, seed: UInt64(i + 1), scale: 4)
                var b = randomValues(n, seed: UInt64(i + 100), scale: 4)
                if act == .f16 { (a, b) = (roundedToHalf(a), roundedToHalf(b)) }
                let (ga, gb, gy) = (try buffer(a, as: act), try buffer(b, as: act), try buffer([Float](repeating: .nan, count: n), as: act))
                try run { try ElementwiseOp.encode($0, kind, a: ga.view, b: gb.view, y: gy.view, count: n, activations: act) }
                let expected = zip(a, b).map(reference)
                let tolerance = act == .f16 ? Tolerance.fp16Activations : Tolerance.transcendental
                XCTAssertLessThan(nmse(try read(gy, n, as: act), expected), tolerance, "\(kind) n=\(n) \(act)")
            }
        }
    }

    func testAdd() throws { try check(.add) { Reference.add($0, $1) } }
    func testMul() throws { try check(.mul) { Reference.mul($0, $1) } }
    func testGELU() throws { try check(.gelu) { a, _ in Reference.gelu(a) } }
    func testSiLU() throws { try check(.silu) { a, _ in Reference.silu(a) } }
}
