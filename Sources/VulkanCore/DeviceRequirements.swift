/// The device limits the kernels rely on, checked when a device opens so that a device below
/// them fails with the limit named instead of with a driver error or a wrong result later.
public enum DeviceRequirements {
    public struct Requirement: Sendable {
        public let limit: String
        public let need: Int
        public let why: String
        let value: @Sendable (DeviceCapabilities) -> Int
    }

    public static let all: [Requirement] = [
        Requirement(limit: "maxComputeWorkGroupInvocations", need: 256,
                    why: "the tiled GEMM and the row kernels (norms, softmax, argmax) run 256 invocations per workgroup",
                    value: { $0.maxComputeWorkGroupInvocations }),
        Requirement(limit: "maxComputeWorkGroupSize.x", need: 256, why: "the row kernels use a 256-wide workgroup in x",
                    value: { $0.maxComputeWorkGroupSize.first ?? 0 }),
        Requirement(limit: "maxComputeWorkGroupSize.y", need: 16, why: "the tiled GEMM's workgroup is 16 x 16",
                    value: { $0.maxComputeWorkGroupSize.count > 1 ? $0.maxComputeWorkGroupSize[1] : 0 }),
        Requirement(limit: "maxPerStageDescriptorStorageBuffers", need: 7,
                    why: "decode attention and RoPE's cache append bind 7 storage buffers",
                    value: { $0.maxPerStageDescriptorStorageBuffers }),
        Requirement(limit: "maxComputeSharedMemorySize", need: 8 << 10,
                    why: "the tiled GEMM stages two 16 x 64 fp32 tiles (8 KiB); staged attention shrinks its tiles down to that",
                    value: { $0.maxComputeSharedMemorySize }),
        Requirement(limit: "maxPushConstantsSize", need: 44, why: "flash attention takes 44 bytes of push constants",
                    value: { $0.maxPushConstantsSize }),
        Requirement(limit: "maxStorageBufferRange", need: 1 << 27,
                    why: "activation maps are bound whole (the 1024 px encoder's first map is 96 MiB); only weights are split into slices",
                    value: { $0.maxStorageBufferRange }),
        Requirement(limit: "maxMemoryAllocationSize", need: 256 << 20,
                    why: "device memory is allocated in blocks of up to 256 MiB",
                    value: { $0.maxMemoryAllocationSize }),
    ]

    /// The requirements `caps` falls short of (empty: the device is usable).
    public static func unmet(_ caps: DeviceCapabilities) -> [Requirement] { all.filter { $0.value(caps) < $0.need } }

    /// Throws `missingFeature` naming every unmet limit, its value and what needs it.
    public static func check(_ caps: DeviceCapabilities) throws {
        let short = unmet(caps)
        guard !short.isEmpty else { return }
        let lines = short.map { "\($0.limit) is \($0.value(caps)), at least \($0.need) needed: \($0.why)" }
        throw VulkanError.missingFeature("\(caps.name) is below the limits the kernels need: " + lines.joined(separator: "; "))
    }
}
