import Foundation
import VulkanCore

/// Every kernel variant of Ops against its CPU reference (`Reference.*`) on one device, at a
/// few shapes each, awkward ones included (sizes off every tile). `fastvlm-gpu selftest` prints
/// the table; the tests and the policy's quick checks (VerifiedVariants) run the same cases.
/// Variants the device cannot run are listed as not supported, never dropped.
public enum Selftest {
    public enum Verdict: String, Sendable {
        case pass
        case fail = "FAIL"
        case unsupported = "not supported"
    }

    /// One line of the table.
    public struct Result: Sendable {
        public let op: String
        public let variant: String
        public let shape: String
        /// Normalised max error (max |got - want| / max |want|; exact cases: max |got - want|).
        public let maxError: Float?
        public let tolerance: Float?
        public let verdict: Verdict
        /// Why a case failed to run or is not supported.
        public let note: String
    }

    /// A kernel's output beside the reference's, and how close they must be.
    struct Comparison {
        var got: [Float]
        var want: [Float]
        var tolerance: Float
        /// Indices and other exact outputs: the plain max difference, which must be 0.
        var exact = false

        var error: Float {
            guard got.count == want.count else { return .infinity }
            var diff: Float = 0, scale: Float = 0
            for i in got.indices {
                let d = abs(got[i] - want[i])
                diff = d.isNaN ? .infinity : max(diff, d)
                scale = max(scale, abs(want[i]))
            }
            return exact ? diff : diff / max(scale, 1e-20)
        }
    }

    /// One check: a variant at one shape. `unsupported` says why the device cannot run it (nil: it can).
    struct Case {
        let op: String
        let variant: String
        let shape: String
        var unsupported: String? = nil
        let body: (Device) throws -> Comparison
    }

    /// The whole catalog, one family per file beside this one.
    static func catalog(for device: Device) -> [Case] {
        let caps = device.capabilities
        return linearCases(caps) + convolutionCases(caps) + attentionCases(caps) + normCases(caps) + ropeCases(caps)
            + rowCases(caps) + elementwiseCases(caps) + embeddingCases(caps) + squeezeExciteCases(caps) + samplingCases(caps)
            + layoutCases(caps) + policyCases(device)
    }

    /// The op names the catalog covers, in table order.
    public static func ops(on device: Device) -> [String] {
        var seen: [String] = []
        for c in catalog(for: device) where !seen.contains(c.op) { seen.append(c.op) }
        return seen
    }

    /// Runs every case on `device` (each in its own command sequence), or those of `ops` only.
    /// A case that throws is a failure.
    public static func run(on device: Device, ops: Set<String>? = nil, progress: ((Result) -> Void)? = nil) -> [Result] {
        catalog(for: device).filter { ops?.contains($0.op) ?? true }.map { c in
            let r = run(c, on: device)
            progress?(r)
            return r
        }
    }

    static func run(_ c: Case, on device: Device) -> Result {
        if let why = c.unsupported {
            return Result(op: c.op, variant: c.variant, shape: c.shape, maxError: nil, tolerance: nil, verdict: .unsupported, note: why)
        }
        do {
            let comparison = try c.body(device)
            let error = comparison.error
            return Result(op: c.op, variant: c.variant, shape: c.shape, maxError: error, tolerance: comparison.tolerance,
                          verdict: error <= comparison.tolerance ? .pass : .fail, note: "")
        } catch {
            return Result(op: c.op, variant: c.variant, shape: c.shape, maxError: nil, tolerance: nil, verdict: .fail, note: "\(error)")
        }
    }

    /// The quick check behind `KernelPolicy.verifiedBeforeUse`: `op.variant` passes when the
    /// cases of that op whose variant starts with that name that the device can run all pass
    /// (and there is at least one).
    public static func check(_ name: String, on device: Device) throws -> Bool {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw OpError("selftest: '\(name)' is not op.variant") }
        let cases = catalog(for: device).filter { $0.op == parts[0] && ($0.variant == parts[1] || $0.variant.hasPrefix(parts[1] + " ")) }
        guard !cases.isEmpty else { throw OpError("selftest: no case checks \(name)") }
        return passed(cases, on: device)
    }

    /// Whether `cases` pass: shapes or formats a variant does not take are no evidence either
    /// way, and at least one case must run.
    static func passed(_ cases: [Case], on device: Device) -> Bool {
        let verdicts = cases.map { run($0, on: device).verdict }.filter { $0 != .unsupported }
        return !verdicts.isEmpty && verdicts.allSatisfy { $0 == .pass }
    }

    /// Aligned text rows: the widths fit every case of the catalog (or of the given results),
    /// so rows can be printed one by one as their checks finish.
    public struct Table {
        static let header = ["op", "variant", "shape", "max error", "tolerance", "verdict"]
        let widths: [Int]

        /// Widths for the catalog's cases on `device` (those of `ops` only, when given).
        public init(on device: Device, ops: Set<String>? = nil) {
            let cases = catalog(for: device).filter { ops?.contains($0.op) ?? true }
            self.init(names: cases.map { [$0.op, $0.variant, $0.shape] })
        }

        init(names: [[String]]) {
            // Errors print as "1.2e-05" (or "-", "inf"): 9 characters hold them all.
            widths = (0..<3).map { i in (names.map { $0[i].count } + [Self.header[i].count]).max() ?? 0 } + [9, 9]
        }

        public var header: String { line(Self.header) }

        public func row(_ r: Result) -> String {
            line([r.op, r.variant, r.shape, r.maxError.map { format($0) } ?? "-", r.tolerance.map { format($0) } ?? "-",
                  r.verdict.rawValue + (r.note.isEmpty ? "" : ": " + r.note)])
        }

        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, s in i == cells.count - 1 ? s : s + String(repeating: " ", count: max(0, widths[i] - s.count) + 2) }.joined()
        }
    }

    /// The results as an aligned text table.
    public static func table(_ results: [Result]) -> String {
        let t = Table(names: results.map { [$0.op, $0.variant, $0.shape] })
        return ([t.header] + results.map(t.row)).joined(separator: "\n")
    }

    static func format(_ x: Float) -> String { x == 0 ? "0" : x.isFinite ? String(format: "%.1e", x) : "\(x)" }
}
