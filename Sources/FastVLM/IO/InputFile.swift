import Foundation

/// Plain words for why a file the user named cannot be read, before reading it
/// (Foundation's own messages say little more than "the operation could not be completed").
public enum InputFile {
    /// nil when `url` is a readable regular file; otherwise the problem, e.g. "no such file".
    public static func problem(_ url: URL) -> String? {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            let parent = url.deletingLastPathComponent().path
            return fm.fileExists(atPath: parent) ? "no such file" : "no such file (the folder \(parent) does not exist either)"
        }
        if isFolder.boolValue { return "is a folder, not a file" }
        if !fm.isReadableFile(atPath: url.path) { return "permission denied" }
        return nil
    }
}
