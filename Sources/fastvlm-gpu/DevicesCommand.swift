import ArgumentParser
import Foundation
import Ops
import VulkanCore

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the Vulkan devices with the features and limits fastvlm-gpu uses.")

    @Flag(help: "Print a JSON array of device objects.")
    var json = false

    @Option(help: "Show the kernel policy for this family: auto, gpu or cpu (default: FASTVLM_KERNELS, else auto).")
    var kernels: KernelChoice?

    func run() throws {
        let instance = try VulkanInstance(validation: false)
        let devices = try instance.physicalDevices()
        if devices.isEmpty { throw VulkanError.noDevice("the Vulkan loader reports no physical device") }
        if json {
            struct Entry: Encodable { let index: Int; let capabilities: DeviceCapabilities
                func encode(to encoder: Encoder) throws {
                    try capabilities.encode(to: encoder)
                    var c = encoder.container(keyedBy: Key.self)
                    try c.encode(index, forKey: .index)
                }
                struct Key: CodingKey { var stringValue: String; var intValue: Int? { nil }
                    init(stringValue: String) { self.stringValue = stringValue }
                    init?(intValue: Int) { nil }
                    static let index = Key(stringValue: "index") }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(devices.map { Entry(index: $0.index, capabilities: $0.capabilities) })
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let choice = try KernelChoice.resolve(kernels)
        for d in devices { print(describe(d.index, d.capabilities, policy: KernelPolicy(capabilities: d.capabilities, choice: choice))) }
    }

    /// The fp16 -> fp32 shapes per extension, or whether the extension is only listed.
    func coopmat(_ c: DeviceCapabilities) -> String {
        let shapes = c.cooperativeMatrixShapes
        let parts = [("NV", shapes.nv), ("KHR", shapes.khr)].filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1.map(\.description).joined(separator: ", "))" }
        if !parts.isEmpty { return parts.joined(separator: "; ") + " (fp16 -> fp32)" }
        return c.cooperativeMatrix ? "listed, no usable fp16 -> fp32 shape" : "no"
    }

    func describe(_ index: Int, _ c: DeviceCapabilities, policy: KernelPolicy) -> String {
        let unmet = DeviceRequirements.unmet(c).map { "\($0.limit) \($0.need) needed" }
        func mib(_ bytes: Int) -> String { "\(bytes >> 20) MiB" }
        let heaps = c.memoryHeaps.enumerated().map { "#\($0.offset) \(mib(Int(clamping: $0.element.size)))\($0.element.deviceLocal ? " device-local" : "")" }
        let types = c.memoryTypes.enumerated().map { "#\($0.offset) heap \($0.element.heap): \($0.element.flags.isEmpty ? "-" : $0.element.flags.joined(separator: "|"))" }
        return """
        [\(index)] \(c.name) (\(c.type))
            driver:                 \(c.driverName) \(c.driverInfo), Vulkan \(c.apiVersion), vendor 0x\(String(c.vendorID, radix: 16)) device 0x\(String(c.deviceID, radix: 16))
            fp16 arithmetic:        \(c.shaderFloat16)
            16-bit storage:         \(c.storageBuffer16BitAccess)
            int8 / int64:           \(c.shaderInt8) / \(c.shaderInt64)
            subgroup size:          \(c.subgroupSize) (min \(c.minSubgroupSize), max \(c.maxSubgroupSize), size control \(c.subgroupSizeControl))
            subgroup operations:    \(c.subgroupOperations.joined(separator: ", "))
            cooperative matrix:     \(coopmat(c))
            shared memory:          \(c.maxComputeSharedMemorySize / 1024) KiB, \(c.maxComputeWorkGroupInvocations) invocations per workgroup (\(c.maxComputeWorkGroupSize.map(String.init).joined(separator: " x ")))
            max storage binding:    \(mib(c.maxStorageBufferRange)), \(c.maxPerStageDescriptorStorageBuffers) per stage
            max allocation:         \(mib(c.maxMemoryAllocationSize))
            int16 / 8-bit storage:  \(c.shaderInt16) / \(c.storageBuffer8BitAccess)
            kernel limits:          \(unmet.isEmpty ? "met" : "NOT met: " + unmet.joined(separator: ", "))
            kernel policy:          \(policy.summary)
            push constants:         \(c.maxPushConstantsSize) bytes
            offset alignment:       \(c.minStorageBufferOffsetAlignment) bytes
            timestamps:             \(c.timestampValidBits > 0 ? "\(c.timestampValidBits) bits, \(c.timestampPeriodNs) ns per tick" : "not supported")
            memory heaps:           \(heaps.joined(separator: "; "))
            memory types:           \(types.joined(separator: "; "))
        """
    }
}
