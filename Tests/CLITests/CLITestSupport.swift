import Foundation
import GPUTestSupport
import XCTest

/// Runs the built `fastvlm-gpu` binary (it sits beside the test bundle) and captures its output.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

func runCLI(_ arguments: [String], environment: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
    let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? Bundle.main.bundlePath)
    let binary = bundle.deletingLastPathComponent().appending(path: "fastvlm-gpu")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw MissingPrerequisite.error("fastvlm-gpu is not built beside the tests at \(binary.path)")
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Both pipes drained at once: reading one to its end first would deadlock on a child
    // that fills the other pipe's buffer and blocks.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box(), errDone = DispatchGroup()
    DispatchQueue.global().async(group: errDone) { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    let errData = errBox.data
    process.waitUntilExit()
    return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}
