import Foundation
import XCTest

/// `fastvlm-gpu selftest` under both kernel classes: every variant listed, all passing.
final class SelftestCommandTests: XCTestCase {
    func runSelftest(_ kernels: String) throws {
        let r = try runCLI(["selftest", "--kernels", kernels])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("kernels \(kernels) (forced)"), r.stdout)
        XCTAssertTrue(r.stdout.contains(" 0 failed"), r.stdout)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
        for variant in ["linear  tiled", "linear  subgroup", "linear  gemv", "gemv swiglu-input", "gemv rmsnorm-input",
                        "tiled f32 a16 -> f32", "gemv swiglu-input q8 a16 -> f32", "gemv rmsnorm-input q4 a32 -> f16", "a16 c16", "f32->f16", "staged", "direct", "rowPerInvocation",
                        "keysPerInvocation", "default (\(kernels) class)"] {
            XCTAssertTrue(r.stdout.replacingOccurrences(of: " +", with: "  ", options: .regularExpression).contains(variant)
                          || r.stdout.contains(variant), "\(variant) missing from the table")
        }
        for op in ["conv2d", "depthwise", "vision attention", "causal attention", "decode attention", "rmsnorm", "layernorm", "rope",
                   "softmax", "elementwise", "swiglu", "embedding", "squeeze-excite", "argmax", "sample", "layout", "convert"] {
            XCTAssertTrue(r.stdout.contains("\n" + op + " "), "\(op) missing from the table")
        }
    }

    func testCPUKernels() throws { try runSelftest("cpu") }
    func testGPUKernels() throws { try runSelftest("gpu") }

    func testOnlySomeOps() throws {
        let r = try runCLI(["selftest", "--op", "softmax", "argmax"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\nsoftmax ") && r.stdout.contains("\nargmax "), r.stdout)
        XCTAssertFalse(r.stdout.contains("\nlinear "), r.stdout)
        let bad = try runCLI(["selftest", "--op", "teleport"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("teleport"), bad.stderr)
    }

    func testBadKernelsValueIsAClearError() throws {
        let option = try runCLI(["selftest", "--kernels", "tensor"])
        XCTAssertNotEqual(option.status, 0)
        XCTAssertTrue(option.stderr.contains("'auto', 'cpu' or 'gpu'"), option.stderr)
        let env = try runCLI(["selftest"], environment: ["FASTVLM_KERNELS": "tensor"])
        XCTAssertNotEqual(env.status, 0)
        XCTAssertTrue(env.stderr.contains("FASTVLM_KERNELS=tensor"), env.stderr)
        // The option wins over a bad environment value.
        let both = try runCLI(["selftest", "--kernels", "cpu", "--op", "softmax"], environment: ["FASTVLM_KERNELS": "tensor"])
        XCTAssertEqual(both.status, 0, both.stderr)
    }

    func testDevicesPrintsThePolicy() throws {
        let r = try runCLI(["devices", "--kernels", "gpu"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("kernel policy:          kernels gpu (forced)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("kernel limits:          met"), r.stdout)
    }
}
