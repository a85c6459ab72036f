import Foundation

/// One compiled SPIR-V variant, embedded at build time by ShaderEmbedder.
public struct ShaderSource: Sendable, Hashable {
    public let name: String
    public let base64: String

    public init(name: String, base64: String) {
        self.name = name
        self.base64 = base64
    }

    /// The SPIR-V words. The string was written by our own build step, so a decode
    /// failure is a build defect, reported as an empty module that pipeline creation rejects.
    public var words: [UInt32] {
        guard let data = Data(base64Encoded: base64), data.count % 4 == 0 else { return [] }
        return data.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
    }
}
