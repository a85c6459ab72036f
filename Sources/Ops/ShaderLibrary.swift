import VulkanCore

/// Namespace for the SPIR-V compiled from Shaders/ at build time; each shader
/// file adds its variants here as `static let` constants (see ShaderEmbedder).
public enum ShaderLibrary {}

typealias ShaderSource = VulkanCore.ShaderSource

extension ShaderLibrary {
    /// The variant called `name` among `variants` (a shader file's `STEM_variants`); `missing`
    /// is the error when there is none (e.g. no kernel for a weight format).
    static func variant(_ name: String, in variants: [ShaderSource], _ missing: @autoclosure () -> String) throws -> ShaderSource {
        guard let shader = variants.first(where: { $0.name == name }) else { throw OpError(missing()) }
        return shader
    }
}
