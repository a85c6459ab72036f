import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import FastVLM

/// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) that imitates the parts of the Hugging
/// Face hub the downloader uses:
///
/// - `GET /api/models/{owner}/{name}/revision/{rev}[?blobs=true]`: JSON with `sha` and
///   `siblings` (`rfilename`, and with blobs=true `size`, `blobId`, `lfs {sha256, size, pointerSize}`).
/// - `GET|HEAD /{owner}/{name}/resolve/{rev}/{file}`: regular files answered directly with an
///   ETag; LFS files answered with a 302 to `/cdn/{sha256}` (relative) or to `cdnBase` (absolute),
///   carrying `X-Linked-Etag`, `X-Linked-Size` and `X-Repo-Commit`.
/// - `GET|HEAD /cdn/{sha256}`: the LFS bytes, with `Range: bytes=N-` answered by 206.
///
/// One connection at a time, `Connection: close`; the accept loop polls so `stop()` ends it promptly.
final class HubTestServer: @unchecked Sendable {
    struct File {
        let name: String
        let data: Data
        let lfs: Bool
    }

    struct Repo {
        let commit: String
        let files: [File]
    }

    struct Request {
        let method: String
        let path: String
        let query: String
        /// Header names lowercased.
        let headers: [String: String]
        let status: Int
        let bodyBytes: Int
    }

    // Behaviour switches (set before the requests that should see them).
    var repos: [String: Repo] = [:]
    /// Include `blobId` for every sibling (as the real hub does); off forces ETag lookups via HEAD.
    var includeBlobIds = true
    /// Absolute base URL (`http://127.0.0.1:port`) LFS redirects point to; nil: relative `/cdn/...`.
    var cdnBase: String?
    /// LFS files whose first CDN download is served with flipped bytes.
    var corruptOnce: Set<String> = []
    /// LFS files always served with flipped bytes.
    var corruptAlways: Set<String> = []
    /// Files listed in the API but answering 404 on resolve.
    var missingFiles: Set<String> = []
    /// Files whose CDN download sends only this many bytes and then drops the connection (once).
    var truncateOnce: [String: Int] = [:]

    private(set) var port: UInt16 = 0
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private let lock = NSLock()
    private var log: [Request] = []
    private var servedCorrupt: Set<String> = []
    private var listener: Int32 = -1
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw ServerError("bind/listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "HubTestServer"
        thread.start()
    }

    /// Stops the accept loop (waits up to 5 s for it) and closes the socket.
    func stop() {
        lock.lock()
        let already = stopping
        stopping = true
        lock.unlock()
        if !already { _ = stopped.wait(timeout: .now() + 5) }
    }

    deinit { stop() }

    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    func resetLog() {
        lock.lock()
        log.removeAll()
        lock.unlock()
    }

    // MARK: - Repository helpers

    static func sha256(_ data: Data) -> String { HubSnapshotDownloader.sha256Hex(data) }

    /// A stand-in for the git blob id (40 hex digits derived from the content).
    static func gitBlobID(_ data: Data) -> String {
        String(sha256(Data("blob \(data.count)\u{0}".utf8) + data).prefix(40))
    }

    // MARK: - Serving

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    private func acceptLoop() {
        while !isStopping {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            handle(connection)
            close(connection)
        }
        close(listener)
        stopped.signal()
    }

    private func handle(_ connection: Int32) {
        guard let head = readHead(connection) else { return }
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let method = String(parts[0])
        let target = String(parts[1])
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let pieces = target.split(separator: "?", maxSplits: 1).map(String.init)
        let path = pieces[0].removingPercentEncoding ?? pieces[0]
        let query = pieces.count > 1 ? pieces[1] : ""

        var response = route(method: method, path: path, query: query, headers: headers)
        // A dropped connection: announce the whole body, send only part of it.
        let sendLimit = method == "GET" ? takeTruncation(path: path) : nil
        let bodyBytes = method == "HEAD" ? 0 : min(response.body.count, sendLimit ?? Int.max)
        lock.lock()
        log.append(Request(method: method, path: path, query: query, headers: headers,
                           status: response.status, bodyBytes: bodyBytes))
        lock.unlock()

        var text = "HTTP/1.1 \(response.status) \(HubTestServer.reason(response.status))\r\n"
        if response.headers["Content-Length"] == nil { response.headers["Content-Length"] = String(response.body.count) }
        response.headers["Connection"] = "close"
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var bytes = Data(text.utf8)
        if method != "HEAD" { bytes.append(response.body.prefix(sendLimit ?? Int.max)) }
        sendAll(connection, bytes)
        shutdown(connection, Int32(SHUT_RDWR))
    }

    private func takeTruncation(path: String) -> Int? {
        guard path.hasPrefix("/cdn/") else { return nil }
        let sha = String(path.dropFirst(5))
        lock.lock()
        defer { lock.unlock() }
        for (name, limit) in truncateOnce {
            if repos.values.contains(where: { $0.files.contains { $0.name == name && HubTestServer.sha256($0.data) == sha } }) {
                truncateOnce[name] = nil
                return limit
            }
        }
        return nil
    }

    private struct Response {
        var status: Int
        var headers: [String: String] = [:]
        var body = Data()
    }

    private func route(method: String, path: String, query: String, headers: [String: String]) -> Response {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if segments.count == 6, segments[0] == "api", segments[1] == "models", segments[4] == "revision" {
            return revisionInfo(repo: "\(segments[2])/\(segments[3])", query: query)
        }
        if segments.count == 5, segments[2] == "resolve" {
            return resolve(repo: "\(segments[0])/\(segments[1])", file: segments[4])
        }
        if segments.count == 2, segments[0] == "cdn" {
            return cdn(sha: segments[1], range: headers["range"])
        }
        return Response(status: 404, headers: ["X-Error-Message": "no route"], body: Data("not found".utf8))
    }

    private func notFound(_ repo: String) -> Response {
        Response(status: 404, headers: ["X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"],
                 body: Data("{\"error\":\"Repository not found\"}".utf8))
    }

    private func revisionInfo(repo name: String, query: String) -> Response {
        guard let repo = repos[name] else { return notFound(name) }
        let blobs = query.contains("blobs=true")
        var siblings: [[String: Any]] = []
        for file in repo.files {
            var entry: [String: Any] = ["rfilename": file.name]
            if blobs {
                entry["size"] = file.data.count
                if includeBlobIds { entry["blobId"] = HubTestServer.gitBlobID(file.data) }
                if file.lfs {
                    entry["lfs"] = ["sha256": HubTestServer.sha256(file.data), "size": file.data.count, "pointerSize": 134]
                }
            }
            siblings.append(entry)
        }
        let object: [String: Any] = ["id": name, "modelId": name, "sha": repo.commit, "siblings": siblings, "private": false]
        let body = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: 200, headers: ["Content-Type": "application/json"], body: body)
    }

    private func resolve(repo name: String, file fileName: String) -> Response {
        guard let repo = repos[name] else { return notFound(name) }
        guard let file = repo.files.first(where: { $0.name == fileName }), !missingFiles.contains(fileName) else {
            return Response(status: 404, headers: ["X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found"])
        }
        var headers = ["X-Repo-Commit": repo.commit]
        if file.lfs {
            let sha = HubTestServer.sha256(file.data)
            headers["Location"] = (cdnBase ?? "") + "/cdn/\(sha)?X-Amz-Signature=test"
            headers["X-Linked-Etag"] = "\"\(sha)\""
            headers["X-Linked-Size"] = String(file.data.count)
            headers["ETag"] = "W/\"\(HubTestServer.gitBlobID(file.data))\""
            return Response(status: 302, headers: headers, body: Data("Found. Redirecting".utf8))
        }
        headers["ETag"] = "\"\(HubTestServer.gitBlobID(file.data))\""
        headers["Content-Type"] = "application/octet-stream"
        return Response(status: 200, headers: headers, body: file.data)
    }

    private func cdn(sha: String, range: String?) -> Response {
        guard let file = repos.values.lazy.flatMap({ $0.files }).first(where: { $0.lfs && HubTestServer.sha256($0.data) == sha }) else {
            return Response(status: 404, body: Data("NoSuchKey".utf8))
        }
        var data = file.data
        lock.lock()
        let corrupt = corruptAlways.contains(file.name) || (corruptOnce.contains(file.name) && !servedCorrupt.contains(file.name))
        if corrupt { servedCorrupt.insert(file.name) }
        lock.unlock()
        if corrupt { data = Data(data.map { $0 ^ 0x5A }) }

        var headers = ["ETag": "\"\(sha)\"", "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"]
        if let range, range.hasPrefix("bytes="), let dash = range.firstIndex(of: "-"),
           let start = Int(range[range.index(range.startIndex, offsetBy: 6)..<dash]) {
            guard start < data.count else {
                headers["Content-Range"] = "bytes */\(data.count)"
                return Response(status: 416, headers: headers)
            }
            headers["Content-Range"] = "bytes \(start)-\(data.count - 1)/\(data.count)"
            return Response(status: 206, headers: headers, body: data.subdata(in: start..<data.count))
        }
        return Response(status: 200, headers: headers, body: data)
    }

    // MARK: - Socket plumbing

    private func readHead(_ connection: Int32) -> String? {
        var received = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(5)
        let terminator: [UInt8] = [13, 10, 13, 10]
        while Date() < deadline && received.count < 65536 {
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            received.append(contentsOf: chunk[0..<count])
            if let end = HubTestServer.find(terminator, in: received) {
                return String(decoding: received[0..<end], as: UTF8.self)
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start
        }
        return nil
    }

    private func sendAll(_ connection: Int32, _ data: Data) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let sent = send(connection, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 {
                    if sent < 0 && errno == EINTR { continue }
                    return
                }
                offset += sent
            }
        }
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 206: return "Partial Content"
        case 302: return "Found"
        case 401: return "Unauthorized"
        case 404: return "Not Found"
        case 416: return "Range Not Satisfiable"
        default: return "Status"
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
