// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "fastvlm-gpu",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fastvlm-gpu", targets: ["fastvlm-gpu"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
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
        .executableTarget(
            name: "fastvlm-gpu",
            dependencies: [
                "FastVLM", "Ops", "VulkanCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/fastvlm-gpu"
        ),
        .testTarget(name: "CLITests", dependencies: ["fastvlm-gpu", "GPUTestSupport"], path: "Tests/CLITests"),
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
