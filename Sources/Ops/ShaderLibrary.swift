import VulkanCore

/// Namespace for the SPIR-V compiled from Shaders/ at build time; each shader
/// file adds its variants here as `static let` constants (see ShaderEmbedder).
public enum ShaderLibrary {}

typealias ShaderSource = VulkanCore.ShaderSource
