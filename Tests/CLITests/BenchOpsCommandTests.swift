import XCTest

final class BenchOpsCommandTests: XCTestCase {
    func testSmallShapesAsJSON() throws {
        let r = try runCLI(["bench", "ops", "--json", "--repeats", "2", "--shape", "16x40x32", "1x64x32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(rows?.count, 2)
        for key in ["op", "m", "n", "k", "weight_dtype", "ms", "gflops", "gbps", "cpu_ms"] {
            XCTAssertNotNil(rows?.first?[key], key)
        }
        XCTAssertEqual(rows?.last?["op"] as? String, "gemv")
    }

    func testBadShapeIsAClearError() throws {
        let r = try runCLI(["bench", "ops", "--shape", "12x3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not MxNxK"), r.stderr)
    }
}
