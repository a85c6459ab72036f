import ArgumentParser
import Foundation
import Ops
import VulkanCore

/// Every kernel variant on one device against the CPU reference: what to run first on a new
/// GPU or driver.
struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Check every kernel variant the device can run against the CPU reference; exit 1 on any failure.")

    @Option(help: "Vulkan device index (see `fastvlm-gpu devices`); default: FASTVLM_DEVICE or the best device.")
    var device: Int?

    @Option(help: "Kernel family: auto (from the device type), gpu or cpu (default: FASTVLM_KERNELS, else auto).")
    var kernels: KernelChoice?

    @Option(parsing: .upToNextOption, help: "Only these ops (names as in the table's op column, e.g. linear \"decode attention\").")
    var op: [String] = []

    func run() throws {
        let gpu = try Device(index: device, kernels: kernels)
        let known = Selftest.ops(on: gpu)
        for name in op where !known.contains(name) {
            throw ValidationError("--op \(name): not an op of the selftest (\(known.joined(separator: ", ")))")
        }
        print("device: \(gpu.capabilities.name) (\(gpu.capabilities.driverName) \(gpu.capabilities.driverInfo))")
        print(gpu.kernelPolicy.summary)
        // Rows print as their checks finish: a slow pipeline compile or a hang shows where it is.
        let only = op.isEmpty ? nil : Set(op)
        let table = Selftest.Table(on: gpu, ops: only)
        print(table.header)
        fflush(stdout)
        let results = Selftest.run(on: gpu, ops: only) { result in
            print(table.row(result))
            fflush(stdout)
        }
        let failed = results.filter { $0.verdict == .fail }.count
        let unsupported = results.filter { $0.verdict == .unsupported }.count
        print("\(results.count) checks: \(results.count - failed - unsupported) passed, \(failed) failed, \(unsupported) not supported on this device")
        if failed > 0 { throw ExitCode(1) }
    }
}
