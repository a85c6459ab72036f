import Foundation

/// Why a synthetic model could not be described or built.
public enum SyntheticModelError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The host does not have the memory the fp32 weights need.
    case notEnoughMemory(model: String, parameters: Int, neededBytes: UInt64, availableBytes: UInt64, source: String)
    /// A hand-made geometry the forward pass cannot run.
    case invalidGeometry(String)
    /// A synthetic prompt that cannot be made (too short for the chat frame, or over the context).
    case invalidPrompt(String)

    public var description: String {
        switch self {
        case let .notEnoughMemory(model, parameters, needed, available, source):
            return "\(model) needs about \(gigabytes(needed)) GB of host memory for its fp32 weights "
                + "(\(String(format: "%.2f", Double(parameters) / 1e9)) B parameters), but only \(gigabytes(available)) GB "
                + "is available (\(source)). Use a smaller synthetic model or a machine with more memory."
        case let .invalidGeometry(detail):
            return "synthetic FastViTHD geometry: \(detail)"
        case let .invalidPrompt(detail):
            return "synthetic prompt: \(detail)"
        }
    }

    public var errorDescription: String? { description }

    private func gigabytes(_ bytes: UInt64) -> String { String(format: "%.1f", Double(bytes) / 1e9) }
}
