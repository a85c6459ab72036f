/// A request the GPU language model cannot serve (sizes that do not fit, bad ids), with the
/// numbers involved.
public struct GPULanguageModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
