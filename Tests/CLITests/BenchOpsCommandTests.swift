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

    /// Several kernels and tiles on the same shapes in one run (the previous tiled kernel as a
    /// baseline): a row each, best <= median.
    func testKernelsAndTilesSideBySide() throws {
        let r = try runCLI(["bench", "ops", "--json", "--repeats", "3", "--no-cpu", "--shape", "70x130x64",
                            "--kernel", "tiled", "tiled-v1", "subgroup", "--tile", "64x64", "128x128"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        XCTAssertEqual(rows.map { "\($0["kernel"] ?? "") \($0["tile"] ?? "-")" }, ["tiled 64x64", "tiled 128x128", "tiled 64x64 v1", "subgroup -"])
        for row in rows {
            XCTAssertLessThanOrEqual(row["best_ms"] as? Double ?? .infinity, row["ms"] as? Double ?? 0, "\(row)")
        }
    }

    func testBadKernelOrTileIsAClearError() throws {
        let kernel = try runCLI(["bench", "ops", "--kernel", "magic"])
        XCTAssertNotEqual(kernel.status, 0)
        XCTAssertTrue(kernel.stderr.contains("--kernel 'magic'"), kernel.stderr)
        let tile = try runCLI(["bench", "ops", "--tile", "32x64"])
        XCTAssertNotEqual(tile.status, 0)
        XCTAssertTrue(tile.stderr.contains("--tile '32x64'"), tile.stderr)
    }

    func testBadShapeIsAClearError() throws {
        let r = try runCLI(["bench", "ops", "--shape", "12x3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not MxNxK"), r.stderr)
    }
}
