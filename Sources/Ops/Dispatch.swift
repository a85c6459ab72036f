import VulkanCore

/// Small helpers every op uses to size its dispatches.
enum Grid {
    static let maxGroups = 65535

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

    /// Groups for a grid-stride 1-D kernel over `n` items.
    static func strided(_ n: Int, local: Int) -> (Int, Int, Int) { (max(1, min(ceilDiv(n, local), maxGroups)), 1, 1) }

    /// One workgroup per row, folded into y when there are more than 65535 rows.
    static func rows(_ rows: Int) -> (Int, Int, Int) {
        rows <= maxGroups ? (rows, 1, 1) : (maxGroups, ceilDiv(rows, maxGroups), 1)
    }
}

extension Float {
    var bits: UInt32 { bitPattern }
}

/// Errors for op arguments that do not fit together (shapes, sizes).
public struct OpError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw OpError(message()) }
}

func floats(_ view: BufferView) -> Int { view.size / 4 }

/// Throws unless the device can store activations as `type`: the fp16 kernels declare 16-bit
/// storage-buffer variables, which need the storageBuffer16BitAccess feature.
func requireActivations(_ type: StorageType, on caps: DeviceCapabilities, _ op: String) throws {
    try require(type == .f32 || caps.storageBuffer16BitAccess,
                "\(op): fp16 activations need storageBuffer16BitAccess, which \(caps.name) lacks (use fp32 activations)")
}
