import Foundation
import GPUTestSupport
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built `fastvlm-gpu` beside the test bundle.
func fastvlmBinary() throws -> URL {
    let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? Bundle.main.bundlePath)
    let binary = bundle.deletingLastPathComponent().appending(path: "fastvlm-gpu")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw MissingPrerequisite.error("fastvlm-gpu is not built beside the tests at \(binary.path)")
    }
    return binary
}

/// Runs a program to its end; returns its status and standard output (standard error goes to a file
/// so a chatty child cannot block on a full pipe).
func runProgram(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe()
    let errFile = FileManager.default.temporaryDirectory.appending(path: "fastvlm-server-test-\(UUID().uuidString).err")
    FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errFile) }
    process.standardOutput = out
    process.standardError = try FileHandle(forWritingTo: errFile)
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
    return (process.terminationStatus, String(decoding: data, as: UTF8.self), err)
}

/// `fastvlm-gpu serve` on 127.0.0.1 at a free port, stopped (SIGTERM) by `stop()`.
final class ServerProcess {
    let process = Process()
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }
    let log: URL

    init(arguments: [String]) throws {
        process.executableURL = try fastvlmBinary()
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
        let out = Pipe()
        log = FileManager.default.temporaryDirectory.appending(path: "fastvlm-serve-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // The first line names the port it listens on.
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line += byte
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on "), let port = text.split(separator: ":").last.flatMap({ Int($0) }) else {
            process.terminate()
            throw ServerTestError("the server did not start: '\(text)'; its log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        self.port = port
        // Then it loads the model; /health says when it is ready.
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            if try get("/health").status == 200 { return }
            guard process.isRunning else { throw ServerTestError("the server exited while loading: \(serverLog)") }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw ServerTestError("the model did not load in 300 s: \(serverLog)")
    }

    var serverLog: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func get(_ path: String) throws -> (status: Int, body: String) {
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var result: (Int, String) = (0, "") }
        let box = Box()
        URLSession.shared.dataTask(with: URL(string: base + path)!) { data, response, _ in
            box.result = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        done.wait()
        return box.result
    }

    /// The value of an unlabelled Prometheus sample.
    func metric(_ name: String) throws -> Double {
        let text = try get("/metrics").body
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }), let value = Double(line.split(separator: " ")[1]) else {
            throw ServerTestError("/metrics has no \(name):\n\(text)")
        }
        return value
    }

    func stop() {
        guard process.isRunning else { return }
        process.interrupt()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }
}

struct ServerTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
