import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What to do with a response body once the status and headers are known.
enum HubBodyHandling {
    /// Keep the body in memory, failing past `limit` bytes (API answers, error pages).
    case collect(limit: Int)
    /// Hand each chunk to the closure as it arrives (file downloads); a throw aborts the transfer.
    case stream((Data) throws -> Void)
}

/// A final response: status, headers, the URL that produced it and any collected body.
struct HubHTTPResult {
    let response: HTTPURLResponse
    let url: URL
    let body: Data

    var status: Int { response.statusCode }

    func header(_ name: String) -> String? { response.value(forHTTPHeaderField: name) }

    /// A short human-readable reason from the hub's error headers or body.
    var errorMessage: String {
        if let message = header("X-Error-Message"), !message.isEmpty { return message }
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
           let message = object["error"] as? String { return message }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.contains("<") ? "" : text
    }
}

/// Blocking HTTP on top of URLSession data tasks (FoundationNetworking on Linux has no
/// `bytes(for:)`), streaming bodies chunk by chunk through a delegate. Redirects are followed
/// here rather than by URLSession so that headers such as Range survive them and the token is
/// only ever sent to the hub endpoint itself.
final class HubHTTPClient {
    let configuration: HubConfiguration
    static let maxRedirects = 10
    static let userAgent = "fastvlm-gpu (swift; +huggingface_hub-compatible)"

    init(configuration: HubConfiguration) {
        self.configuration = configuration
    }

    /// Sends `method url`, following redirects when `followRedirects` is set. `handling` is asked
    /// once per final (non-redirect) response; redirect bodies are discarded.
    func send(method: String = "GET", url: URL, headers: [String: String] = [:], followRedirects: Bool = true,
              handling: @escaping (HTTPURLResponse) throws -> HubBodyHandling) throws -> HubHTTPResult {
        var current = url
        var hops = 0
        while true {
            var request = URLRequest(url: current)
            request.httpMethod = method
            request.cachePolicy = .reloadIgnoringLocalCacheData
            request.timeoutInterval = configuration.requestTimeout
            request.setValue(HubHTTPClient.userAgent, forHTTPHeaderField: "User-Agent")
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            if let token = configuration.token, HubHTTPClient.sameOrigin(current, configuration.endpoint) {
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            }
            let isRedirectStatus: (Int) -> Bool = { [301, 302, 303, 307, 308].contains($0) }
            let result = try exchange(request) { response in
                if followRedirects && isRedirectStatus(response.statusCode)
                    && response.value(forHTTPHeaderField: "Location") != nil {
                    return .collect(limit: 1 << 20)
                }
                return try handling(response)
            }
            guard followRedirects, isRedirectStatus(result.status), let location = result.header("Location") else {
                return result
            }
            hops += 1
            guard hops <= HubHTTPClient.maxRedirects else {
                throw HubError.badResponse(url: url.absoluteString, message: "more than \(HubHTTPClient.maxRedirects) redirects")
            }
            guard let next = URL(string: location, relativeTo: current)?.absoluteURL,
                  let scheme = next.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
                throw HubError.badResponse(url: current.absoluteString, message: "redirect to an unusable location '\(location)'")
            }
            current = next
        }
    }

    /// Same scheme, host and port: the only places the token may go.
    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func port(_ url: URL) -> Int? { url.port ?? (url.scheme?.lowercased() == "https" ? 443 : url.scheme?.lowercased() == "http" ? 80 : nil) }
        return a.scheme?.lowercased() == b.scheme?.lowercased()
            && a.host?.lowercased() == b.host?.lowercased()
            && port(a) == port(b)
    }

    /// One request/response, no redirects followed; blocks until the body is done.
    private func exchange(_ request: URLRequest,
                          handling: @escaping (HTTPURLResponse) throws -> HubBodyHandling) throws -> HubHTTPResult {
        let url = request.url?.absoluteString ?? "?"
        let delegate = HubExchangeDelegate(handling: handling)
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = configuration.requestTimeout
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        sessionConfiguration.urlCache = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: sessionConfiguration, delegate: delegate, delegateQueue: queue)
        let task = session.dataTask(with: request)
        task.resume()
        delegate.finished.wait()
        session.finishTasksAndInvalidate()

        if let failure = delegate.failure { throw failure }
        if let transport = delegate.transportError {
            throw HubError.network(url: url, message: transport.localizedDescription)
        }
        guard let response = delegate.response else {
            throw HubError.badResponse(url: url, message: "no HTTP response")
        }
        return HubHTTPResult(response: response, url: request.url ?? URL(fileURLWithPath: "/"), body: delegate.collected)
    }
}

/// Receives one task's callbacks on a serial queue; the caller waits on `finished`.
private final class HubExchangeDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let handling: (HTTPURLResponse) throws -> HubBodyHandling
    let finished = DispatchSemaphore(value: 0)
    var response: HTTPURLResponse?
    var body: HubBodyHandling = .collect(limit: 1 << 20)
    var collected = Data()
    /// An error of ours (a throw from `handling` or a write), which wins over the transport's.
    var failure: Error?
    var transportError: Error?

    init(handling: @escaping (HTTPURLResponse) throws -> HubBodyHandling) {
        self.handling = handling
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            failure = HubError.badResponse(url: response.url?.absoluteString ?? "?", message: "not an HTTP response")
            completionHandler(.cancel)
            return
        }
        self.response = http
        do {
            body = try handling(http)
            completionHandler(.allow)
        } catch {
            failure = error
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        switch body {
        case let .collect(limit):
            if collected.count + data.count > limit {
                failure = HubError.badResponse(url: dataTask.originalRequest?.url?.absoluteString ?? "?",
                                               message: "response larger than \(limit) bytes")
                dataTask.cancel()
            } else {
                collected.append(data)
            }
        case let .stream(write):
            do {
                try write(data)
            } catch {
                failure = error
                dataTask.cancel()
            }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask,
                    willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
                    completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        // Redirects are followed by HubHTTPClient.send, which re-sends the right headers.
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error { transportError = error }
        // A redirect we declined may arrive without a didReceive(response:) callback.
        if response == nil, let http = task.response as? HTTPURLResponse { response = http }
        finished.signal()
    }
}
