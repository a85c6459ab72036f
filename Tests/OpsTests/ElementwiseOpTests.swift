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

    /// Rows of [gate | up]: one row (decode), widths that are not multiples of the
    /// workgroup, the Qwen2-0.5B MLP width.
    func testSwiGLU() throws {
        for (rows, width) in [(1, 1), (1, 4864), (3, 96), (17, 257), (300, 64)] {
            for act in StorageType.allCases {
                var x = randomValues(rows * 2 * width, seed: UInt64(rows * 31 + width), scale: 6)
                if act == .f16 { x = roundedToHalf(x) }
                let (gx, gy) = (try buffer(x, as: act), try buffer([Float](repeating: .nan, count: rows * width), as: act))
                try run { try SwiGLUOp.encode($0, x: gx.view, y: gy.view, rows: rows, width: width, activations: act) }
                let tolerance = act == .f16 ? Tolerance.fp16Activations : Tolerance.transcendental
                XCTAssertLessThan(nmse(try read(gy, rows * width, as: act), Reference.swiGLU(x, rows: rows, width: width)), tolerance,
                                  "\(rows)x\(width) \(act)")
            }
        }
    }
}
