import VulkanCore

/// How the flash-attention kernel (Shaders/flash_attention.comp) reads K and V.
public enum AttentionVariant: String, CaseIterable, Sendable {
    /// K/V tiles staged in shared memory by the workgroup (GPUs).
    case staged
    /// K/V read straight from the buffer at uniform addresses (CPU devices: lavapipe).
    case direct
}

/// The shared dispatcher of the flash-attention kernel behind VisionAttentionOp and
/// CausalAttentionOp. Operands are rows of vec4s; strides and offsets are in elements here
/// and must be multiples of 4. `activations` is the storage of q and out (and of k and v
/// without the mask); the causal kernel reads its caches as `cache`.
enum FlashAttentionKernel {
    static let queriesPerGroup = 64

    struct Layout {
        var rows: Int          // query rows
        var keys: Int          // key rows (no mask) or cache capacity (causal)
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        var qStride: Int, kStride: Int, vStride: Int, oStride: Int
        var qOffset = 0, kOffset = 0, vOffset = 0
    }

    /// Keys per tile: 32, or fewer when a staged K+V tile would not fit shared memory.
    static func keysPerTile(headDim: Int, variant: AttentionVariant, caps: DeviceCapabilities) -> Int {
        guard variant == .staged else { return 32 }
        var bk = 32
        while bk > 4 && 2 * bk * headDim * 4 > caps.maxComputeSharedMemorySize { bk /= 2 }
        return bk
    }

    /// Query rows per invocation. On CPU devices every buffer or shared-memory load of a
    /// lane is a gather even when all lanes read the same address, so each key element
    /// loaded should feed several rows: about 256 q floats per invocation (8 rows at hd 32,
    /// 4 at hd 64: 22 GFLOP/s at N = 1024 on lavapipe against 5 with one row; 16 rows is a
    /// little faster but takes seconds to JIT-compile). GPUs keep one row per invocation to
    /// save registers. A short query block (decode through this kernel) gets fewer, so that
    /// one subgroup does not compute many copies of the last row.
    static func rowsPerInvocation(rows: Int, headDim hd: Int, variant: AttentionVariant, caps: DeviceCapabilities) -> Int {
        guard variant == .direct else { return 1 }
        return max(1, min(8, 256 / hd, Grid.ceilDiv(rows, max(1, caps.subgroupSize))))
    }

    static func encode(_ seq: CommandSequence, causal: Bool, q: BufferView, k: BufferView, v: BufferView, out: BufferView,
                       position: BufferView?, layout s: Layout, activations: StorageType = .f32, cache: StorageType = .f32,
                       variant: AttentionVariant, label: String,
                       flops: Double, bytes: Double) throws {
        let caps = seq.device.capabilities
        let hd = s.headDim
        try require(hd > 0 && hd % 4 == 0 && hd <= 256, "\(label): head dim \(hd) must be a multiple of 4, at most 256")
        try require(s.kvHeads > 0 && s.heads % s.kvHeads == 0, "\(label): \(s.heads) heads are not a multiple of \(s.kvHeads) kv heads")
        for x in [s.qStride, s.kStride, s.vStride, s.oStride, s.qOffset, s.kOffset, s.vOffset] {
            try require(x % 4 == 0, "\(label): strides and offsets must be multiples of 4 floats")
        }
        try require(s.rows > 0 && s.keys > 0, "\(label): empty attention (\(s.rows) rows, \(s.keys) keys)")
        try require(causal || cache == .f32, "\(label): only the causal kernel reads a KV cache")
        try requireActivations(activations, on: caps, label)
        try requireActivations(cache, on: caps, label + " (fp16 KV cache)")
        let bk = keysPerTile(headDim: hd, variant: variant, caps: caps)
        let tileVec4 = variant == .staged ? bk * hd / 4 : 1
        // A workgroup takes bq * qpi rows. On CPU devices one subgroup per workgroup: small
        // row blocks waste little on the causal diagonal and on a partial last block, and
        // re-reading K/V costs nothing there. With fewer rows than a block (short prefill,
        // decode) the workgroup shrinks so idle invocations that shadow the last row do not
        // multiply the work.
        let qpi = rowsPerInvocation(rows: s.rows, headDim: hd, variant: variant, caps: caps)
        var bq = max(1, min(variant == .direct ? max(1, caps.subgroupSize) : queriesPerGroup, caps.maxComputeWorkGroupInvocations))
        while bq / 2 >= max(caps.subgroupSize, Grid.ceilDiv(s.rows, qpi)) && bq / 2 >= 1 { bq /= 2 }
        let shader: ShaderSource
        switch (causal, activations, cache) {
        case (false, .f32, _): shader = ShaderLibrary.flash_attention
        case (false, .f16, _): shader = ShaderLibrary.flash_attention_a16
        case (true, .f32, .f32): shader = ShaderLibrary.flash_attention_causal
        case (true, .f16, .f32): shader = ShaderLibrary.flash_attention_causal_a16
        case (true, .f32, .f16): shader = ShaderLibrary.flash_attention_causal_c16
        case (true, .f16, .f16): shader = ShaderLibrary.flash_attention_causal_a16_c16
        }
        let pipeline = try seq.device.pipeline(shader,
                                               bindings: 5, pushConstantSize: 44,
                                               specialization: [UInt32(bq), UInt32(hd), UInt32(bk), variant == .staged ? 1 : 0, UInt32(tileVec4), UInt32(qpi)])
        let group = s.heads / s.kvHeads
        let scale = Float(1.4426950408889634 / Double(hd).squareRoot())
        let push: [UInt32] = [UInt32(s.rows), UInt32(s.keys), UInt32(group),
                              UInt32(s.qStride / 4), UInt32(s.kStride / 4), UInt32(s.vStride / 4), UInt32(s.oStride / 4),
                              UInt32(s.qOffset / 4), UInt32(s.kOffset / 4), UInt32(s.vOffset / 4), scale.bits]
        let blocks = Grid.ceilDiv(s.rows, bq * qpi)
        try require(blocks <= Grid.maxGroups && s.heads <= Grid.maxGroups, "\(label): \(s.rows) rows x \(s.heads) heads exceed the dispatch grid")
        // Without a position buffer (no mask) bind Q in its slot: the kernel never reads it.
        let bindings: [Binding] = [.read(q), .read(k), .read(v), .write(out), .read(position ?? q)]
        try seq.dispatch(pipeline, bindings, push: push, groups: (blocks, s.heads, 1), label: label, flops: flops, bytes: bytes)
    }
}
