import Foundation
import PackagePlugin

/// Compiles every `Shaders/**/*.comp` into a Swift file holding its SPIR-V variants.
///
/// glslangValidator is looked up on PATH here: `context.tool(named:)` does not find
/// system binaries. Every shader source (including `#include`d `.glsl` files) is an
/// input of every command, so editing any of them rebuilds what depends on it.
@main
struct ShaderPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let shaderDir = context.package.directoryURL.appending(path: "Shaders")
        let sources = try shaderFiles(under: shaderDir)
        let glslang = try findGlslang()
        let embedder = try context.tool(named: "ShaderEmbedder").url
        return sources.filter { $0.pathExtension == "comp" }.map { comp in
            let output = context.pluginWorkDirectoryURL.appending(path: comp.deletingPathExtension().lastPathComponent + ".spv.swift")
            return .buildCommand(
                displayName: "Compiling shader \(comp.lastPathComponent)",
                executable: embedder,
                arguments: [glslang.path, shaderDir.appending(path: "include").path, comp.path, output.path],
                inputFiles: sources + [glslang],
                outputFiles: [output]
            )
        }
    }

    private func shaderFiles(under dir: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else {
            throw PluginError("cannot read the shader folder \(dir.path)")
        }
        return walker.compactMap { $0 as? URL }
            .filter { ["comp", "glsl"].contains($0.pathExtension) }
            .sorted { $0.path < $1.path }
    }

    private func findGlslang() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = URL(fileURLWithPath: dir).appending(path: "glslangValidator")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw PluginError("glslangValidator not found on PATH: install the Debian/Ubuntu package 'glslang-tools' (apt-get install glslang-tools)")
    }
}

struct PluginError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
