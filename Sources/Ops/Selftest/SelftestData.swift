import VulkanCore

/// Inputs, uploads and tolerances the selftest cases share.
enum SelftestData {
    /// Deterministic pseudo-random values in [-scale, scale) (xorshift).
    static func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var state = seed &* 0x9E3779B97F4A7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    /// Values as a kernel reading `type` storage sees them.
    static func rounded(_ values: [Float], to type: StorageType) -> [Float] {
        type == .f16 ? values.map { Float(Float16($0)) } : values
    }

    /// A buffer of `values` stored as `type` (fp16 padded to whole words).
    static func upload(_ device: Device, _ values: [Float], as type: StorageType = .f32) throws -> DeviceBuffer {
        guard type == .f16 else { return try device.upload(values.isEmpty ? [0] : values) }
        var bits = values.map { Float16($0).bitPattern }
        if bits.count % 2 == 1 || bits.isEmpty { bits.append(0) }
        return try device.upload(bits)
    }

    /// A buffer of `count` NaNs (a kernel that skips an output shows up), stored as `type`.
    static func output(_ device: Device, _ count: Int, as type: StorageType = .f32) throws -> DeviceBuffer {
        try upload(device, [Float](repeating: .nan, count: count), as: type)
    }

    static func download(_ device: Device, _ buffer: DeviceBuffer, _ count: Int, as type: StorageType = .f32) throws -> [Float] {
        guard type == .f16 else { return try device.download(buffer.view, as: Float.self, count: count) }
        return try device.download(buffer.view, as: UInt16.self, count: count).map { Float(Float16(bitPattern: $0)) }
    }

    /// Records `body` into a sequence of its own and runs it once.
    static func run(_ device: Device, _ label: String, _ body: (CommandSequence) throws -> Void) throws {
        let seq = CommandSequence(device: device, label: "selftest " + label)
        try body(seq)
        try seq.run()
    }

    /// Normalised max error allowed for outputs stored as `type`: fp32 differs from the
    /// reference only in summation order and transcendental approximations; fp16 storage
    /// rounds every stored value to 11 significant bits (2^-11 = 4.9e-4 relative), a few times.
    static func tolerance(_ type: StorageType) -> Float { type == .f16 ? 4e-3 : 1e-4 }

    /// Why a device cannot run fp16 activations, or nil when it can.
    static func unsupported(_ type: StorageType, _ caps: DeviceCapabilities) -> String? {
        type == .f16 && !caps.storageBuffer16BitAccess ? "needs storageBuffer16BitAccess" : nil
    }

    static let storages: [StorageType] = [.f32, .f16]

    /// (activations, KV cache) storage pairs of the decoder kernels.
    static let storagePairs: [(StorageType, StorageType)] = [(.f32, .f32), (.f16, .f32), (.f32, .f16), (.f16, .f16)]
}

extension SelftestData {
    /// CHW (the reference's layout) -> HWC (the GPU vision layout).
    static func hwc(_ x: [Float], _ c: Int, _ h: Int, _ w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for ch in 0..<c { for p in 0..<h * w { out[p * c + ch] = x[ch * h * w + p] } }
        return out
    }

    /// HWC -> CHW.
    static func chw(_ x: [Float], _ c: Int, _ h: Int, _ w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for ch in 0..<c { for p in 0..<h * w { out[ch * h * w + p] = x[p * c + ch] } }
        return out
    }

    /// A value fp16 cannot hold (its largest is 65504): a residual that must survive fp32 storage.
    static let wide: Float = 3e6

    static func wideIndex(_ count: Int) -> Int { count / 2 }

    /// `values` with the wide one in the middle.
    static func withWideValue(_ values: [Float]) -> [Float] {
        var v = values
        v[wideIndex(v.count)] = wide
        return v
    }

    /// `values` without the middle one (the wide value, checked apart).
    static func narrow(_ values: [Float]) -> [Float] {
        values.enumerated().filter { $0.offset != wideIndex(values.count) }.map(\.element)
    }

    /// silu(gate) * up of stacked [gate | up] rows, m rows of 2k: what the SwiGLU input feeds the GEMM.
    static func swiGLU(_ gateUp: [Float], m: Int, k: Int) -> [Float] {
        (0..<m * k).map { i in Reference.silu(gateUp[(i / k) * 2 * k + i % k]) * gateUp[(i / k) * 2 * k + k + i % k] }
    }

    static func storageName(_ type: StorageType) -> String { type == .f16 ? "a16" : "a32" }

    static func cacheName(_ type: StorageType) -> String { type == .f16 ? "c16" : "c32" }
}
