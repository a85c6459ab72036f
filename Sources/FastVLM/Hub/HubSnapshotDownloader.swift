import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The part of `GET /api/models/{repo}/revision/{rev}?blobs=true` we use.
struct HubRevisionInfo: Decodable {
    struct Sibling: Decodable {
        struct LFS: Decodable {
            let sha256: String
            let size: Int64?
        }
        let rfilename: String
        let size: Int64?
        let blobId: String?
        let lfs: LFS?
    }
    let sha: String
    let siblings: [Sibling]?
}

/// Finds or builds the cached snapshot of one repository revision (see `HubRepoCache` for the layout).
final class HubSnapshotDownloader {
    let repo: HubRepoID
    let revision: String
    let configuration: HubConfiguration
    let cache: HubRepoCache
    let progress: ((HubProgress) -> Void)?
    private lazy var http = HubHTTPClient(configuration: configuration)

    /// Transfers interrupted by the network are resumed this many extra times before giving up.
    static let networkRetries = 2

    init(repo: HubRepoID, revision: String, configuration: HubConfiguration, progress: ((HubProgress) -> Void)?) {
        self.repo = repo
        self.revision = revision
        self.configuration = configuration
        self.cache = HubRepoCache(cacheDirectory: configuration.cacheDirectory, repo: repo, revision: revision)
        self.progress = progress
    }

    private var endpointText: String { configuration.endpoint.absoluteString }

    func snapshot() throws -> URL {
        // A complete cached snapshot is used without any network access.
        let cachedProblem: String
        if let commit = cache.recordedCommit() {
            if let problem = cache.snapshotProblem(commit: commit) {
                cachedProblem = "snapshot \(commit) is incomplete: \(problem)"
            } else {
                return cache.snapshotFolder(commit: commit)
            }
        } else {
            cachedProblem = "it was never downloaded: no refs/\(revision)"
        }
        if configuration.offline {
            throw HubError.notCachedOffline(repo: repo.description, cache: configuration.cacheDirectory.path,
                                            detail: cachedProblem)
        }

        let info = try fetchRevisionInfo()
        let commit = info.sha
        let files = try plan(info)

        // Blob names first (may need a HEAD per file), then download what is not in blobs/ yet.
        var pending: [(file: HubRevisionInfo.Sibling, blob: String)] = []
        for file in files {
            let blob = try blobName(for: file, commit: commit)
            if let size = HubFiles.size(cache.blob(blob)), size == expectedSize(file) ?? size {
                try cache.link(file: file.rfilename, commit: commit, blob: blob)
            } else {
                pending.append((file, blob))
            }
        }
        for (index, item) in pending.enumerated() {
            try fetchBlob(item.file, blob: item.blob, commit: commit, index: index + 1, count: pending.count)
            try cache.link(file: item.file.rfilename, commit: commit, blob: item.blob)
        }
        try cache.writeRef(commit: commit)
        if let problem = cache.snapshotProblem(commit: commit) {
            throw HubError.badResponse(url: endpointText + "/" + repo.description,
                                       message: "snapshot \(commit) is still incomplete after downloading: \(problem)")
        }
        return cache.snapshotFolder(commit: commit)
    }

    // MARK: - Revision metadata

    private func fetchRevisionInfo() throws -> HubRevisionInfo {
        let text = "\(endpointText)/api/models/\(repo.owner)/\(repo.name)/revision/\(revision)?blobs=true"
        guard let url = URL(string: text) else {
            throw HubError.badResponse(url: text, message: "cannot form the revision URL")
        }
        let result = try http.send(url: url, headers: ["Accept": "application/json"]) { _ in .collect(limit: 64 << 20) }
        guard result.status == 200 else { throw statusError(result, file: nil) }
        let info: HubRevisionInfo
        do {
            info = try JSONDecoder().decode(HubRevisionInfo.self, from: result.body)
        } catch {
            throw HubError.badResponse(url: text, message: "cannot read the revision JSON: \(error)")
        }
        guard HubRepoCache.isSafeComponent(info.sha) else {
            throw HubError.badResponse(url: text, message: "commit hash '\(info.sha)' is not usable as a folder name")
        }
        return info
    }

    /// The files FastVLM needs, failing early when the repository cannot be a FastVLM model.
    private func plan(_ info: HubRevisionInfo) throws -> [HubRevisionInfo.Sibling] {
        let files = (info.siblings ?? []).filter { ModelLocator.isWanted($0.rfilename) }
        let names = Set(files.map(\.rfilename))
        var missing: [String] = []
        if !names.contains("config.json") { missing.append("config.json") }
        if !names.contains(where: { $0.hasSuffix(".safetensors") }) { missing.append("*.safetensors weights") }
        if !names.contains("tokenizer.json") && !(names.contains("vocab.json") && names.contains("merges.txt")) {
            missing.append("tokenizer (tokenizer.json, or vocab.json + merges.txt)")
        }
        if !missing.isEmpty { throw HubError.missingRequiredFiles(repo: repo.description, missing: missing) }
        for file in files where !HubRepoCache.isSafeComponent(file.rfilename) {
            throw HubError.badResponse(url: endpointText, message: "unusable file name '\(file.rfilename)' in \(repo)")
        }
        return files
    }

    private func expectedSize(_ file: HubRevisionInfo.Sibling) -> Int64? { file.lfs?.size ?? file.size }

    private func expectedSHA256(_ file: HubRevisionInfo.Sibling) -> String? {
        guard let sha = file.lfs?.sha256.lowercased(), HubSnapshotDownloader.isHex(sha, length: 64) else { return nil }
        return sha
    }

    private func resolveURL(_ file: String, commit: String) throws -> URL {
        let encoded = file.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? file
        let text = "\(endpointText)/\(repo.owner)/\(repo.name)/resolve/\(commit)/\(encoded)"
        guard let url = URL(string: text) else {
            throw HubError.badResponse(url: text, message: "cannot form the download URL for \(file)")
        }
        return url
    }

    /// The blob name huggingface_hub would use: the LFS sha256, else the git blob id (which is
    /// what the hub sends as ETag), else the ETag of a HEAD request.
    private func blobName(for file: HubRevisionInfo.Sibling, commit: String) throws -> String {
        if let sha = expectedSHA256(file) { return sha }
        if let blobId = file.blobId, HubRepoCache.isSafeComponent(blobId) { return blobId }
        let url = try resolveURL(file.rfilename, commit: commit)
        var result = try http.send(method: "HEAD", url: url, headers: ["Accept-Encoding": "identity"],
                                   followRedirects: false) { _ in .collect(limit: 1 << 20) }
        var etag = result.header("X-Linked-Etag") ?? result.header("ETag")
        if etag == nil && (300..<400).contains(result.status) {
            result = try http.send(method: "HEAD", url: url, headers: ["Accept-Encoding": "identity"]) { _ in .collect(limit: 1 << 20) }
            etag = result.header("ETag")
        }
        guard result.status < 400 else { throw statusError(result, file: file.rfilename) }
        guard let raw = etag else {
            throw HubError.badResponse(url: url.absoluteString, message: "no ETag for \(file.rfilename), cannot name its blob")
        }
        let name = HubSnapshotDownloader.normalizeETag(raw)
        guard HubRepoCache.isSafeComponent(name) else {
            throw HubError.badResponse(url: url.absoluteString, message: "ETag '\(raw)' is not usable as a blob name")
        }
        return name
    }

    /// `W/"abc"` or `"abc"` -> `abc`.
    static func normalizeETag(_ raw: String) -> String {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("W/") { text.removeFirst(2) }
        return text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func isHex(_ text: String, length: Int) -> Bool {
        text.count == length && text.allSatisfy { $0.isHexDigit }
    }

    // MARK: - Blob download

    /// Downloads one blob into blobs/{blob}.incomplete (resuming what is there), verifies it and
    /// moves it into place. A failed check deletes it and downloads once more.
    private func fetchBlob(_ file: HubRevisionInfo.Sibling, blob: String, commit: String, index: Int, count: Int) throws {
        try HubFiles.createFolder(cache.blobsFolder)
        let lock = try HubFileLock(cache.lockFile(blob))
        defer { withExtendedLifetime(lock) {} }

        let final = cache.blob(blob)
        let expected = expectedSize(file)
        if let size = HubFiles.size(final), size == expected ?? size { return }  // another process finished it
        let partial = cache.incompleteBlob(blob)
        if let expected, let size = HubFiles.size(partial), size > expected { try HubFiles.remove(partial) }

        let url = try resolveURL(file.rfilename, commit: commit)
        var lastProblem = ""
        for attempt in 1...2 {
            try transfer(url: url, to: partial, file: file.rfilename, expected: expected, index: index, count: count)
            if let problem = try verify(partial, expected: expected, sha256: expectedSHA256(file)) {
                lastProblem = problem
                try HubFiles.remove(partial)
                if attempt == 2 { break }
                continue
            }
            try HubFiles.remove(final)
            try HubFiles.rename(partial, to: final)
            return
        }
        throw HubError.integrityFailure(repo: repo.description, file: file.rfilename, detail: lastProblem)
    }

    /// Brings `partial` to the full file, resuming after transport failures.
    private func transfer(url: URL, to partial: URL, file: String, expected: Int64?, index: Int, count: Int) throws {
        var retries = 0
        while true {
            if let expected, HubFiles.size(partial) == expected {
                return  // already complete (an earlier run stopped before moving it into place)
            }
            do {
                try transferOnce(url: url, to: partial, file: file, expected: expected, index: index, count: count)
                return
            } catch let error as HubError {
                guard case .network = error, retries < HubSnapshotDownloader.networkRetries else { throw error }
                retries += 1
                Thread.sleep(forTimeInterval: Double(retries))
            }
        }
    }

    private func transferOnce(url: URL, to partial: URL, file: String, expected: Int64?, index: Int, count: Int) throws {
        let offset = HubFiles.size(partial) ?? 0
        var headers = ["Accept-Encoding": "identity"]
        if offset > 0 { headers["Range"] = "bytes=\(offset)-" }

        let sink = HubFileSink(path: partial, file: file, index: index, count: count, progress: progress)
        defer { sink.close() }
        let result = try http.send(url: url, headers: headers) { response in
            switch response.statusCode {
            case 200:
                let length = HubSnapshotDownloader.contentLength(response)
                try sink.open(at: 0, total: expected ?? length)
                return .stream { try sink.write($0) }
            case 206:
                let range = response.value(forHTTPHeaderField: "Content-Range") ?? ""
                guard HubSnapshotDownloader.contentRangeStart(range) == offset else {
                    throw HubError.badResponse(url: url.absoluteString,
                                               message: "asked for bytes from \(offset) of \(file), got Content-Range '\(range)'")
                }
                let total = expected ?? HubSnapshotDownloader.contentLength(response).map { $0 + offset }
                try sink.open(at: offset, total: total)
                return .stream { try sink.write($0) }
            default:
                return .collect(limit: 1 << 20)
            }
        }
        switch result.status {
        case 200, 206:
            sink.finish()
        case 416 where offset > 0:
            // The server will not continue from our partial file: start over.
            try HubFiles.remove(partial)
            try transferOnce(url: url, to: partial, file: file, expected: expected, index: index, count: count)
        default:
            throw statusError(result, file: file)
        }
    }

    /// nil when the file is right, else what is wrong with it.
    private func verify(_ path: URL, expected: Int64?, sha256: String?) throws -> String? {
        let actualSize = HubFiles.size(path) ?? -1
        if let expected, actualSize != expected {
            return "size \(actualSize) bytes, expected \(expected)"
        }
        guard let sha256 else { return nil }
        let actual = try HubSnapshotDownloader.sha256(of: path)
        return actual == sha256 ? nil : "SHA-256 \(actual), expected \(sha256)"
    }

    static func sha256(of path: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path.path) else {
            throw HubError.fileSystem(path: path.path, message: "cannot open for reading")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 8 << 20)
            } catch {
                throw HubError.fileSystem(path: path.path, message: "read failed: \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func contentLength(_ response: HTTPURLResponse) -> Int64? {
        response.value(forHTTPHeaderField: "Content-Length").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// `bytes 100-199/200` -> 100.
    static func contentRangeStart(_ header: String) -> Int64? {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = text.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        return Int64(spec[..<dash])
    }

    private func statusError(_ result: HubHTTPResult, file: String?) -> HubError {
        let code = result.header("X-Error-Code") ?? ""
        let hasToken = configuration.token != nil
        if code == "RepoNotFound" || code == "RevisionNotFound" || (result.status == 404 && file == nil) {
            return .repoNotFound(repo: repo.description, endpoint: endpointText, hasToken: hasToken)
        }
        if code == "GatedRepo" || result.status == 401 || result.status == 403 {
            return .accessDenied(repo: repo.description, status: result.status, message: result.errorMessage, hasToken: hasToken)
        }
        if result.status == 404 || code == "EntryNotFound" {
            return .fileNotFound(repo: repo.description, file: file ?? "?", status: result.status)
        }
        return .httpStatus(url: result.url.absoluteString, status: result.status, message: result.errorMessage)
    }
}

/// Appends response chunks to a partial blob and reports progress (throttled to ~10 per second).
private final class HubFileSink {
    let path: URL
    let file: String
    let index: Int
    let count: Int
    let progress: ((HubProgress) -> Void)?
    private var handle: FileHandle?
    private var written: Int64 = 0
    private var total: Int64?
    private var lastReport = DispatchTime.now()

    init(path: URL, file: String, index: Int, count: Int, progress: ((HubProgress) -> Void)?) {
        self.path = path
        self.file = file
        self.index = index
        self.count = count
        self.progress = progress
    }

    /// Opens the partial file, keeping its first `offset` bytes (0 truncates it).
    func open(at offset: Int64, total: Int64?) throws {
        close()
        if !FileManager.default.fileExists(atPath: path.path) {
            guard FileManager.default.createFile(atPath: path.path, contents: nil) else {
                throw HubError.fileSystem(path: path.path, message: "cannot create file")
            }
        }
        do {
            let handle = try FileHandle(forWritingTo: path)
            try handle.truncate(atOffset: UInt64(offset))
            try handle.seek(toOffset: UInt64(offset))
            self.handle = handle
        } catch {
            throw HubError.fileSystem(path: path.path, message: "cannot open for writing: \(error.localizedDescription)")
        }
        written = offset
        self.total = total
        report(force: true)
    }

    func write(_ data: Data) throws {
        guard let handle else { return }
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw HubError.fileSystem(path: path.path, message: "write failed (disk full?): \(error.localizedDescription)")
        }
        written += Int64(data.count)
        report(force: false)
    }

    /// Closes the file after a complete response and reports the final size.
    func finish() {
        close()
        report(force: true)
    }

    func close() {
        if let handle {
            try? handle.close()
            self.handle = nil
        }
    }

    private func report(force: Bool) {
        guard let progress else { return }
        let now = DispatchTime.now()
        if !force && now.uptimeNanoseconds - lastReport.uptimeNanoseconds < 100_000_000 { return }
        lastReport = now
        progress(HubProgress(file: file, completed: written, total: total, fileIndex: index, fileCount: count))
    }
}
