// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "fastvlm-gpu",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fastvlm-gpu", targets: ["fastvlm-gpu"]),
        // The engine for Swift programs: load a model, ask about an image, stream the answer.
        .library(name: "FastVLM", targets: ["FastVLM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Vulkan headers only; the loader is opened at run time so a missing
        // libvulkan is a clear error instead of a dynamic-linker failure.
        .systemLibrary(name: "CVulkan", path: "Sources/CVulkan"),
        // libpng and libjpeg-turbo behind small C wrappers (libpng reports errors with longjmp).
        .target(
            name: "CImageCodecs",
            path: "Sources/CImageCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("turbojpeg")]
        ),
        // Build-time GLSL -> SPIR-V: the plugin runs ShaderEmbedder once per Shaders/*.comp.
        .executableTarget(name: "ShaderEmbedder", path: "Sources/ShaderEmbedder"),
        .plugin(
            name: "ShaderPlugin",
            capability: .buildTool(),
            dependencies: ["ShaderEmbedder"],
            path: "Sources/ShaderPlugin"
        ),
        .target(
            name: "VulkanCore",
            dependencies: ["CVulkan"],
            path: "Sources/VulkanCore"
        ),
        .target(
            name: "Ops",
            dependencies: ["VulkanCore"],
            path: "Sources/Ops",
            plugins: ["ShaderPlugin"]
        ),
        .target(
            name: "FastVLM",
            dependencies: ["Ops", "VulkanCore", "CImageCodecs", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/FastVLM"
        ),
        // `fastvlm-gpu serve`: the OpenAI-compatible HTTP API over FastVLM's serving engine.
        .target(
            name: "FastVLMServer",
            dependencies: [
                "FastVLM",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/FastVLMServer"
        ),
        .executableTarget(
            name: "fastvlm-gpu",
            dependencies: [
                "FastVLM", "FastVLMServer", "Ops", "VulkanCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/fastvlm-gpu"
        ),
        .testTarget(name: "CLITests", dependencies: ["fastvlm-gpu", "GPUTestSupport"], path: "Tests/CLITests"),
        .testTarget(name: "ServerTests", dependencies: ["fastvlm-gpu", "GPUTestSupport"], path: "Tests/ServerTests", exclude: ["Support"]),
        .testTarget(name: "VulkanCoreTests", dependencies: ["VulkanCore"], path: "Tests/VulkanCoreTests"),
        .target(name: "GPUTestSupport", dependencies: ["VulkanCore"], path: "Tests/GPUTestSupport"),
        .testTarget(name: "OpsTests", dependencies: ["Ops", "VulkanCore", "GPUTestSupport"], path: "Tests/OpsTests"),
        .testTarget(
            name: "FastVLMTests",
            dependencies: ["FastVLM", "Ops", "VulkanCore", "GPUTestSupport"],
            path: "Tests/FastVLMTests",
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
