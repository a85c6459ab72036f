import Foundation

/// Why a synthetic model could not be described or built.
public enum SyntheticModelError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// A hand-made geometry the forward pass cannot run.
    case invalidGeometry(String)
    /// A synthetic prompt that cannot be made (too short for the chat frame, or over the context).
    case invalidPrompt(String)

    public var description: String {
        switch self {
        case let .invalidGeometry(detail):
            return "synthetic FastViTHD geometry: \(detail)"
        case let .invalidPrompt(detail):
            return "synthetic prompt: \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
