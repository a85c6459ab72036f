import FastVLM
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The bytes of an `image_url`: a `data:image/...;base64,` URI, an http(s) URL (fetched with
/// size and time limits) or a local path inside `--allowed-local-media`. The bytes are then
/// checked to be a PNG or JPEG whose size the decoder accepts, from the header alone.
enum MediaLoader {
    static func load(_ url: String, configuration c: ServerConfiguration) async throws -> Data {
        let data: Data
        if url.hasPrefix("data:") {
            data = try decodeDataURI(url, limit: c.maxBodyBytes)
        } else if url.hasPrefix("http://") || url.hasPrefix("https://") {
            data = try await fetch(url, limit: c.maxFetchBytes, timeout: c.fetchTimeoutSeconds)
        } else {
            data = try readLocal(url, allowed: c.allowedLocalMedia)
        }
        do { _ = try ImageFile.header(data, name: "image") } catch let error as ImageError {
            if error.description.contains("too large") { throw OpenAIError.tooLarge(error.description) }
            throw OpenAIError.badRequest("the image is not a readable PNG or JPEG: \(error.description)", code: "invalid_image")
        }
        return data
    }

    static func decodeDataURI(_ uri: String, limit: Int) throws -> Data {
        guard let comma = uri.firstIndex(of: ",") else { throw OpenAIError.badRequest("invalid data URI: no ',' before the data", code: "invalid_image") }
        let header = uri[uri.index(uri.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { throw OpenAIError.badRequest("the image data URI must be base64 encoded", code: "invalid_image") }
        guard let data = Data(base64Encoded: String(uri[uri.index(after: comma)...])), !data.isEmpty else {
            throw OpenAIError.badRequest("the image data URI is not valid base64", code: "invalid_image")
        }
        guard data.count <= limit else { throw OpenAIError.tooLarge("the image is \(data.count) bytes, above the limit of \(limit)") }
        return data
    }

    static func fetch(_ url: String, limit: Int, timeout: Double) async throws -> Data {
        guard let u = URL(string: url) else { throw OpenAIError.badRequest("invalid image URL", code: "invalid_image") }
        var request = URLRequest(url: u, timeoutInterval: timeout)
        request.httpMethod = "GET"
        let data: Data, response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw OpenAIError.badRequest("could not fetch the image from \(url): \(error.localizedDescription)", code: "invalid_image")
        }
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            throw OpenAIError.badRequest("fetching the image from \(url) gave HTTP \(http.statusCode)", code: "invalid_image")
        }
        guard data.count <= limit else { throw OpenAIError.tooLarge("the image at \(url) is \(data.count) bytes, above the limit of \(limit)") }
        return data
    }

    static func readLocal(_ path: String, allowed: URL?) throws -> Data {
        guard let allowed else {
            throw OpenAIError.badRequest("image_url must be a data: URI or an http(s) URL (local files need --allowed-local-media)", code: "invalid_image")
        }
        let raw = path.hasPrefix("file://") ? String(path.dropFirst(7)) : path
        let file = URL(fileURLWithPath: raw).standardizedFileURL.resolvingSymlinksInPath()
        let root = allowed.standardizedFileURL.resolvingSymlinksInPath().path
        guard file.path.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw OpenAIError.badRequest("local image paths must be inside the --allowed-local-media folder", code: "invalid_image")
        }
        guard let data = try? Data(contentsOf: file) else { throw OpenAIError.badRequest("cannot read the image \(file.path)", code: "invalid_image") }
        return data
    }
}
