import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress of one file download. Reported when a file starts, every ~0.1 s while bytes
/// arrive, and once when it is complete (`completed == total`).
public struct HubProgress: Sendable, Equatable {
    /// File name inside the repository, e.g. `model.safetensors`.
    public let file: String
    /// Bytes of this file on disk so far (a resumed download starts above zero).
    public let completed: Int64
    /// Expected size, when the hub or the response told us.
    public let total: Int64?
    /// 1-based position of this file among the files being downloaded, and their count.
    public let fileIndex: Int
    public let fileCount: Int

    public init(file: String, completed: Int64, total: Int64?, fileIndex: Int, fileCount: Int) {
        self.file = file
        self.completed = completed
        self.total = total
        self.fileIndex = fileIndex
        self.fileCount = fileCount
    }

    public var isComplete: Bool { total.map { completed >= $0 } ?? false }
}

/// A one-line text progress bar on stderr, redrawn in place with `\r`:
///
///     [2/9] model.safetensors  [#########...........]  45%  512.0/1130.0 MB  23.4 MB/s
///
/// Silent when stderr is not a terminal (logs, pipes) unless forced on.
public final class HubProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let write: (String) -> Void
    private let lock = NSLock()
    private var currentFile: String?
    private var fileStart = Date()
    private var startBytes: Int64 = 0
    private var lastDraw = Date.distantPast
    private var lastWidth = 0

    /// - Parameters:
    ///   - enabled: draw at all; defaults to "stderr is a terminal".
    ///   - write: where the text goes (stderr by default; tests capture it).
    public init(enabled: Bool? = nil, write: ((String) -> Void)? = nil) {
        self.enabled = enabled ?? (isatty(STDERR_FILENO) != 0)
        self.write = write ?? { text in FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// A closure to pass as `ModelLocator.resolve(_:progress:)`.
    public var handler: (HubProgress) -> Void { { [self] progress in self.update(progress) } }

    public func update(_ progress: HubProgress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if progress.file != currentFile {
            if currentFile != nil { write("\n") }
            currentFile = progress.file
            fileStart = now
            startBytes = progress.completed
            lastWidth = 0
        } else if !progress.isComplete && now.timeIntervalSince(lastDraw) < 0.1 {
            return
        }
        lastDraw = now
        let line = HubProgressBar.render(progress, elapsed: now.timeIntervalSince(fileStart),
                                         sessionBytes: progress.completed - startBytes)
        let padding = max(0, lastWidth - line.count)
        lastWidth = line.count
        write("\r" + line + String(repeating: " ", count: padding))
    }

    /// Ends the current line (call once all downloads are done).
    public func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        if currentFile != nil { write("\n") }
        currentFile = nil
    }

    /// The text of one progress line (no `\r`), exposed for tests.
    public static func render(_ progress: HubProgress, elapsed: TimeInterval, sessionBytes: Int64, barWidth: Int = 20) -> String {
        let megabyte = 1_048_576.0
        var name = progress.file
        if name.count > 32 { name = "..." + name.suffix(29) }
        var parts = ["[\(progress.fileIndex)/\(progress.fileCount)] \(name)"]
        let done = Double(progress.completed) / megabyte
        if let total = progress.total, total > 0 {
            let fraction = min(1, max(0, Double(progress.completed) / Double(total)))
            let filled = Int((fraction * Double(barWidth)).rounded(.down))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]")
            parts.append(String(format: "%3d%%", Int((fraction * 100).rounded(.down))))
            parts.append(String(format: "%.1f/%.1f MB", done, Double(total) / megabyte))
        } else {
            parts.append(String(format: "%.1f MB", done))
        }
        if elapsed > 0.05 && sessionBytes > 0 {
            parts.append(String(format: "%.1f MB/s", Double(sessionBytes) / megabyte / elapsed))
        }
        return parts.joined(separator: "  ")
    }
}
