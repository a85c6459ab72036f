import Foundation

/// Shared by every harness: the repository root (for fixtures) and a scratch folder for
/// inputs that the code under test only reads from files.
enum FuzzSupport {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appending(path: "fastvlm-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to `name` in the scratch folder and returns the folder.
    static func folder(with files: [String: Data]) -> URL {
        for (name, bytes) in files { try? bytes.write(to: scratch.appending(path: name)) }
        return scratch
    }
}
