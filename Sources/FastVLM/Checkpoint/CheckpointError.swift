/// A problem with a model folder, naming the file and the field or tensor.
public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
