import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The huggingface_hub cache layout for one model repository:
///
///     {cache}/models--{owner}--{name}/blobs/{etag or sha256}
///     {cache}/models--{owner}--{name}/snapshots/{commit}/{file} -> ../../blobs/{etag or sha256}
///     {cache}/models--{owner}--{name}/refs/main                  (the commit hash, no newline)
///     {cache}/.locks/models--{owner}--{name}/{blob}.lock        (download locks)
struct HubRepoCache {
    let root: URL
    let repo: HubRepoID
    let revision: String

    init(cacheDirectory: URL, repo: HubRepoID, revision: String = "main") {
        self.root = cacheDirectory
        self.repo = repo
        self.revision = revision
    }

    var repoFolder: URL { root.appendingPathComponent(repo.cacheFolderName, isDirectory: true) }
    var blobsFolder: URL { repoFolder.appendingPathComponent("blobs", isDirectory: true) }
    var snapshotsFolder: URL { repoFolder.appendingPathComponent("snapshots", isDirectory: true) }
    var refFile: URL { repoFolder.appendingPathComponent("refs", isDirectory: true).appendingPathComponent(revision) }
    var locksFolder: URL {
        root.appendingPathComponent(".locks", isDirectory: true).appendingPathComponent(repo.cacheFolderName, isDirectory: true)
    }

    func snapshotFolder(commit: String) -> URL { snapshotsFolder.appendingPathComponent(commit, isDirectory: true) }
    func blob(_ name: String) -> URL { blobsFolder.appendingPathComponent(name) }
    func incompleteBlob(_ name: String) -> URL { blobsFolder.appendingPathComponent(name + ".incomplete") }
    func lockFile(_ name: String) -> URL { locksFolder.appendingPathComponent(name + ".lock") }

    /// The commit recorded in refs/{revision}, if any and well formed.
    func recordedCommit() -> String? {
        guard let text = try? String(contentsOf: refFile, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return HubRepoCache.isSafeComponent(commit) ? commit : nil
    }

    func writeRef(commit: String) throws {
        let folder = refFile.deletingLastPathComponent()
        try HubFiles.createFolder(folder)
        do {
            try Data(commit.utf8).write(to: refFile, options: .atomic)
        } catch {
            throw HubError.fileSystem(path: refFile.path, message: "\(error)")
        }
    }

    /// Why the snapshot for `commit` is not usable without the network, or nil when it is:
    /// config.json, a tokenizer and every safetensors shard (per the index when there is one)
    /// must be present, and no file in the snapshot may be a dangling link.
    func snapshotProblem(commit: String) -> String? {
        let folder = snapshotFolder(commit: commit)
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder.path) else {
            return "no snapshot folder \(folder.path)"
        }
        for name in names {
            // fileExists follows symbolic links, so a link to a missing blob counts as missing.
            if !fm.fileExists(atPath: folder.appendingPathComponent(name).path) {
                return "\(name) points to a missing blob"
            }
        }
        let present = Set(names)
        if !present.contains("config.json") { return "config.json is missing" }
        if !present.contains("tokenizer.json") && !(present.contains("vocab.json") && present.contains("merges.txt")) {
            return "tokenizer files are missing"
        }
        if present.contains("model.safetensors.index.json") {
            let indexURL = folder.appendingPathComponent("model.safetensors.index.json")
            guard let shards = HubRepoCache.shardNames(indexFile: indexURL) else {
                return "model.safetensors.index.json is unreadable"
            }
            if let missing = shards.first(where: { !present.contains($0) }) { return "\(missing) is missing" }
        } else if !names.contains(where: { $0.hasSuffix(".safetensors") }) {
            return "no *.safetensors weights"
        }
        return nil
    }

    /// The shard file names in a safetensors index (`weight_map` values).
    static func shardNames(indexFile: URL) -> Set<String>? {
        guard let data = try? Data(contentsOf: indexFile),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: Any] else { return nil }
        return Set(map.values.compactMap { $0 as? String })
    }

    /// Points snapshots/{commit}/{file} at ../../blobs/{blob} (a relative link, like huggingface_hub).
    func link(file: String, commit: String, blob: String) throws {
        let folder = snapshotFolder(commit: commit)
        try HubFiles.createFolder(folder)
        let linkPath = folder.appendingPathComponent(file).path
        let target = "../../blobs/" + blob
        if let existing = try? FileManager.default.destinationOfSymbolicLink(atPath: linkPath), existing == target {
            return
        }
        // Replace whatever is there (an old link, or a stale copy).
        if unlink(linkPath) != 0 && errno != ENOENT {
            throw HubError.fileSystem(path: linkPath, message: String(cString: strerror(errno)))
        }
        if symlink(target, linkPath) != 0 {
            throw HubError.fileSystem(path: linkPath, message: "cannot create symbolic link: " + String(cString: strerror(errno)))
        }
    }

    /// Commit hashes, blob names and file names from the network end up in paths: accept only
    /// plain names (no separators, no leading dot, printable ASCII).
    static func isSafeComponent(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 255, !text.hasPrefix(".") else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+=")
        return text.allSatisfy { allowed.contains($0) }
    }
}

/// Small file-system helpers that turn errno failures into HubError.
enum HubFiles {
    static func createFolder(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw HubError.fileSystem(path: url.path, message: "cannot create folder: \(error.localizedDescription)")
        }
    }

    /// Size of a regular file (following links), or nil when it does not exist.
    static func size(_ url: URL) -> Int64? {
        var info = stat()
        guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func remove(_ url: URL) throws {
        if unlink(url.path) != 0 && errno != ENOENT {
            throw HubError.fileSystem(path: url.path, message: "cannot delete: " + String(cString: strerror(errno)))
        }
    }

    static func rename(_ from: URL, to: URL) throws {
        if posixRename(from.path, to.path) != 0 {
            throw HubError.fileSystem(path: to.path, message: "cannot move downloaded file into place: " + String(cString: strerror(errno)))
        }
    }
}

private func posixRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Glibc)
    return Glibc.rename(from, to)
    #else
    return Darwin.rename(from, to)
    #endif
}

/// An exclusive advisory lock (flock) on a lock file, so two processes never write the same blob.
final class HubFileLock {
    private let descriptor: Int32

    init(_ url: URL) throws {
        try HubFiles.createFolder(url.deletingLastPathComponent())
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw HubError.fileSystem(path: url.path, message: "cannot open lock file: " + String(cString: strerror(errno)))
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let message = String(cString: strerror(errno))
            close(fd)
            throw HubError.fileSystem(path: url.path, message: "cannot lock: \(message)")
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
