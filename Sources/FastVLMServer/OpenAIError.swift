import Foundation
import Hummingbird
import FastVLM

/// An error in OpenAI's shape, `{"error": {"message", "type", "code"}}`, with its HTTP status.
struct OpenAIError: Error {
    let status: HTTPResponse.Status
    let type: String
    let code: String?
    let message: String

    static func badRequest(_ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, type: "invalid_request_error", code: code, message: message)
    }
    static func tooLarge(_ message: String) -> OpenAIError {
        OpenAIError(status: .contentTooLarge, type: "invalid_request_error", code: "request_too_large", message: message)
    }
    static let unauthorized = OpenAIError(status: .unauthorized, type: "authentication_error", code: "invalid_api_key",
                                          message: "missing or wrong API key: send 'Authorization: Bearer <key>'")
    static func notFound(_ message: String, code: String) -> OpenAIError {
        OpenAIError(status: .notFound, type: "not_found_error", code: code, message: message)
    }
    static func loading(_ message: String) -> OpenAIError {
        OpenAIError(status: .serviceUnavailable, type: "unavailable_error", code: "model_loading", message: message)
    }
    /// nginx's 499: nobody reads it, but /metrics counts it apart from server errors.
    static let clientGone = OpenAIError(status: .init(code: 499), type: "client_closed_request", code: nil, message: "the client went away")
    static func server(_ message: String) -> OpenAIError {
        OpenAIError(status: .internalServerError, type: "server_error", code: nil, message: message)
    }

    /// The engine's refusals and failures as HTTP errors.
    init(_ error: EngineError) {
        switch error.kind {
        case .badRequest: self = .badRequest(error.description)
        case .badImage: self = .badRequest(error.description, code: "invalid_image")
        case .imageTooLarge: self = .tooLarge(error.description)
        case .contextExceeded: self = .badRequest(error.description, code: "context_length_exceeded")
        case .queueFull: self.init(status: .tooManyRequests, type: "rate_limit_error", code: "queue_full", message: error.description)
        case .timeout: self.init(status: .gatewayTimeout, type: "server_error", code: "timeout", message: error.description)
        case .shutdown: self.init(status: .serviceUnavailable, type: "unavailable_error", code: "shutting_down", message: error.description)
        case .failed: self = .server(error.description)
        }
    }

    init(status: HTTPResponse.Status, type: String, code: String?, message: String) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
    }

    var json: [String: Any] { ["error": ["message": message, "type": type, "code": code.map { $0 as Any } ?? NSNull()]] }

    var response: Response { JSONResponse.make(json, status: status) }
}

/// JSON bodies built with JSONSerialization (the request and answer shapes are loose).
enum JSONResponse {
    static func data(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data(object))))
    }
}
