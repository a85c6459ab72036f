import XCTest
import VulkanCore
@testable import Ops

/// The selftest catalog on this device: every case passes or is listed as not supported, and
/// every variant of every op appears in the table.
final class SelftestTests: GPUTestCase {
    func check(_ device: Device) throws {
        let results = Selftest.run(on: device)
        let failures = results.filter { $0.verdict == .fail }
        XCTAssertTrue(failures.isEmpty, Selftest.table(failures))
        let table = Selftest.table(results)
        func listed(_ op: String, _ variant: String) -> Bool { results.contains { $0.op == op && $0.variant.hasPrefix(variant) } }
        for v in LinearOp.Variant.allCases {
            for format in WeightFormat.allCases { XCTAssertTrue(listed("linear", "\(v.rawValue) \(format.rawValue) a32"), "linear \(v) \(format)") }
        }
        for v in AttentionVariant.allCases {
            XCTAssertTrue(listed("vision attention", v.rawValue))
            XCTAssertTrue(listed("causal attention", v.rawValue))
        }
        for v in DecodeAttentionOp.Variant.allCases { XCTAssertTrue(listed("decode attention", v.rawValue)) }
        // The fp16 decoder storage: every (activations, KV cache) pair of the causal kernels.
        for pair in ["a32 c32", "a16 c32", "a32 c16", "a16 c16"] {
            XCTAssertTrue(listed("rope", "kv append " + pair), pair)
            for v in AttentionVariant.allCases { XCTAssertTrue(listed("causal attention", "\(v.rawValue) \(pair)"), "\(v) \(pair)") }
            for v in DecodeAttentionOp.Variant.allCases { XCTAssertTrue(listed("decode attention", "\(v.rawValue) \(pair)"), "\(v) \(pair)") }
        }
        for format in WeightFormat.allCases {
            for rows in ["a32", "a16", "a16 -> f32", "a32 -> f16"] { XCTAssertTrue(listed("linear", "gemv rmsnorm-input \(format.rawValue) \(rows)"), "\(format) \(rows)") }
            // The fp32 residual stream under fp16 rows: every variant, and the GEMV over SwiGLU rows.
            for v in LinearOp.Variant.allCases { XCTAssertTrue(listed("linear", "\(v.rawValue) \(format.rawValue) a16 -> f32"), "\(v) \(format) a16 -> f32") }
            XCTAssertTrue(listed("linear", "gemv swiglu-input \(format.rawValue) a16 -> f32"), "\(format)")
            XCTAssertTrue(listed("embedding", "\(format.rawValue) a16"), "\(format)")
        }
        // fp16 Y over fp32 X outside the folded norm: listed (not supported today), not dropped.
        for v in LinearOp.Variant.allCases { XCTAssertTrue(listed("linear", "\(v.rawValue) f32 a32 -> f16"), "\(v) a32 -> f16") }
        XCTAssertTrue(listed("linear", "gemv swiglu-input f32 a32 -> f16"))
        for (op, variant) in [("rmsnorm", "a32 -> f16"), ("rope", "in place a16"), ("embedding", "splice a16"), ("convert", "f32->f16"), ("convert", "f16->f32"), ("swiglu", "a16")] {
            XCTAssertTrue(listed(op, variant), "\(op) \(variant)")
        }
        for op in ["conv2d", "depthwise", "rmsnorm", "layernorm", "rope", "softmax", "elementwise", "swiglu", "embedding", "squeeze-excite",
                   "argmax", "sample", "layout", "convert", "policy linear", "policy decode attention"] {
            XCTAssertTrue(results.contains { $0.op == op }, op)
        }
        XCTAssertTrue(table.contains("max error") && table.contains("verdict"))
    }

    func testAutoPolicy() throws { try check(device) }

    /// The variant rows do not depend on the class; the policy rows run what each class chooses.
    func testForcedClasses() throws {
        for kernels in [KernelChoice.gpu, .cpu] {
            let forced = try Device(validation: true, kernels: kernels)
            let ops = Set(Selftest.ops(on: forced).filter { $0.hasPrefix("policy ") })
            XCTAssertEqual(ops.count, 6)
            let results = Selftest.run(on: forced, ops: ops)
            XCTAssertTrue(results.allSatisfy { $0.verdict == .pass && $0.variant == "default (\(kernels.rawValue) class)" }, Selftest.table(results))
        }
    }

    /// A case that cannot run is a row saying so, not a silent omission.
    func testUnsupportedCasesAreListed() {
        let c = Selftest.Case(op: "linear", variant: "imaginary", shape: "-", unsupported: "needs hardware this device lacks") { _ in
            XCTFail("an unsupported case must not run")
            throw OpError("ran")
        }
        let r = Selftest.run(c, on: device)
        XCTAssertEqual(r.verdict, .unsupported)
        XCTAssertTrue(Selftest.table([r]).contains("not supported: needs hardware this device lacks"))
    }

    /// Without 16-bit storage every fp16 case (activations, KV cache or output) is still a row,
    /// marked not supported; the fp32 ones are not.
    func testHalfCasesListedWithout16BitStorage() {
        var caps = device.capabilities
        caps.storageBuffer16BitAccess = false
        let cases = Selftest.ropeCases(caps) + Selftest.attentionCases(caps) + Selftest.embeddingCases(caps) + Selftest.linearCases(caps)
            + Selftest.layoutCases(caps) + Selftest.elementwiseCases(caps) + Selftest.normCases(caps)
        func half(_ c: Selftest.Case) -> Bool {
            c.variant.split(separator: " ").contains { $0 == "a16" || $0 == "c16" || $0.hasPrefix("f16->") || $0.hasSuffix("->f16") }
                || c.variant.hasSuffix(" -> f16")
        }
        XCTAssertGreaterThan(cases.filter(half).count, 50)
        for c in cases where half(c) { XCTAssertNotNil(c.unsupported, "\(c.op) \(c.variant) \(c.shape)") }
        let full = cases.filter { ["rope", "causal attention", "embedding"].contains($0.op) && !half($0) }
        XCTAssertGreaterThan(full.count, 10)
        for c in full { XCTAssertNil(c.unsupported, "\(c.op) \(c.variant) \(c.shape)") }
    }

    /// A wrong result or a throwing kernel is a FAIL row.
    func testWrongResultsFail() {
        let wrong = Selftest.Case(op: "linear", variant: "fake", shape: "1") { _ in Selftest.Comparison(got: [1.5], want: [1], tolerance: 1e-4) }
        XCTAssertEqual(Selftest.run(wrong, on: device).verdict, .fail)
        let nan = Selftest.Case(op: "linear", variant: "fake", shape: "1") { _ in Selftest.Comparison(got: [.nan], want: [1], tolerance: 1e-4) }
        XCTAssertEqual(Selftest.run(nan, on: device).verdict, .fail)
        let throwing = Selftest.Case(op: "linear", variant: "fake", shape: "1") { _ in throw OpError("kernel exploded") }
        let r = Selftest.run(throwing, on: device)
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertEqual(r.note, "kernel exploded")
    }

    /// A quick check passes on what ran: unsupported cases do not count, but something must run.
    func testQuickCheckVerdictOverCases() {
        let pass = Selftest.Case(op: "linear", variant: "fake", shape: "1") { _ in Selftest.Comparison(got: [1], want: [1], tolerance: 1e-4) }
        let fail = Selftest.Case(op: "linear", variant: "fake", shape: "2") { _ in Selftest.Comparison(got: [2], want: [1], tolerance: 1e-4) }
        let unsupported = Selftest.Case(op: "linear", variant: "fake", shape: "3", unsupported: "not here") { _ in throw OpError("ran") }
        XCTAssertTrue(Selftest.passed([pass, unsupported], on: device))
        XCTAssertFalse(Selftest.passed([pass, fail], on: device))
        XCTAssertFalse(Selftest.passed([unsupported], on: device))
        XCTAssertFalse(Selftest.passed([], on: device))
    }

    /// The quick check behind verified variants runs the catalog's cases for one variant.
    func testQuickCheckOfAVariant() throws {
        XCTAssertTrue(try Selftest.check("linear.tiled", on: device))
        XCTAssertThrowsError(try Selftest.check("linear.imaginary", on: device))
        XCTAssertThrowsError(try Selftest.check("nonsense", on: device))
    }
}
