import VulkanCore

/// The one place kernel variants are chosen. A device's type and features map to a kernel
/// class, and the class plus the features to the variant every op and model recorder uses:
///
/// | choice            | cpu class (lavapipe, SwiftShader)        | gpu class (discrete, integrated, virtual) |
/// |-------------------|------------------------------------------|-------------------------------------------|
/// | linear, M <= 8    | gemv (subgroup arithmetic)               | gemv                                      |
/// | linear, M > 8     | subgroup (register-blocked, shuffles)    | coopmat (M >= 32, once verified here),    |
/// |                   |                                          | then tiled (tile from shared memory)      |
/// | conv2d tile       | 8x2 pixels x 2 channel groups (3x3),     | 4x1 pixels x 1 group                      |
/// |                   | 4x2 x 1 (larger kernels)                 |                                           |
/// | depthwise tile    | 8x2 pixels                               | 4x1 pixels                                |
/// | flash attention   | direct (K/V read at uniform addresses)   | staged (K/V tiles in shared memory)       |
/// | decode attention  | keysPerInvocation, 2 key ranges          | rowPerInvocation, 32 key ranges           |
/// | SwiGLU in decode  | separate dispatch                        | fused into the down projection's GEMV     |
/// | RMSNorm in decode | separate dispatch                        | folded into the GEMVs that read it        |
/// | vision storage    | f16 with 16-bit storage                  | f16 with 16-bit storage                   |
/// | decoder storage   | f32                                      | f16 with shaderFloat16 + 16-bit storage   |
/// | KV-cache storage  | f32                                      | f16 with shaderFloat16 + 16-bit storage   |
///
/// Why: on a CPU device every lane's load is a gather and barriers are costly while exp and
/// dispatches are cheap, so the CPU class takes large per-invocation blocks, no shared-memory
/// staging and no fused recomputation; a GPU wants the opposite. `auto` takes the class from
/// the device type; `--kernels` / FASTVLM_KERNELS force one (Device.kernels), which is how the
/// GPU class runs end to end on lavapipe in the tests. Within a class a variant is used only
/// where its op `supports` the shape and device; variants CI cannot run (listed in
/// `verifiedBeforeUse`) also need a passed quick check on this device (Device.verifiedVariants).
public struct KernelPolicy {
    public enum KernelClass: String, Sendable, CaseIterable { case cpu, gpu }

    public let kernelClass: KernelClass
    public let choice: KernelChoice
    public let capabilities: DeviceCapabilities
    /// Answers whether a variant in `checked` passed its check here; nil: none has.
    private let verified: ((String) -> Bool)?
    /// The variants that need a passed check: `verifiedBeforeUse` (tests name others).
    let checked: Set<String>

    /// Variants used only after a quick check against the CPU reference passed on the device
    /// (CI cannot run them), named `op.variant`.
    public static let verifiedBeforeUse: Set<String> = ["linear.coopmat"]

    /// Linear variants per class, best first. A variant not listed (a new one) ranks after the
    /// listed ones in `LinearOp.Variant.allCases` order, so it is still reachable and tested.
    static let linearRanking: [KernelClass: [String]] = [
        .cpu: ["gemv", "subgroup", "tiled"],
        .gpu: ["gemv", "coopmat", "tiled", "subgroup"],
    ]

    /// The fewest rows the cooperative-matrix GEMM is chosen for.
    static let coopmatMinRows = 32

    /// The class `auto` gives a device: its reported type.
    public static func autoClass(for caps: DeviceCapabilities) -> KernelClass { caps.type == "cpu" ? .cpu : .gpu }

    /// A policy from capabilities alone (what-if tables and tests): checked variants are never used.
    public init(capabilities: DeviceCapabilities, choice: KernelChoice = .auto, verified: ((String) -> Bool)? = nil,
                checked: Set<String> = verifiedBeforeUse) {
        self.capabilities = capabilities
        self.choice = choice
        self.verified = verified
        self.checked = checked
        switch choice {
        case .auto: kernelClass = Self.autoClass(for: capabilities)
        case .cpu: kernelClass = .cpu
        case .gpu: kernelClass = .gpu
        }
    }

    /// The device's policy: its `kernels` choice, and quick checks run on it when first needed
    /// (the verdict is kept per device and driver).
    public init(device: Device, checked: Set<String> = verifiedBeforeUse) {
        self.init(capabilities: device.capabilities, choice: device.kernels, verified: { [weak device] name in
            // A policy kept past its device's life uses no checked variant.
            guard let device else { return false }
            return device.verifiedVariants.verified(name) { try Selftest.check(name, on: device) }
        }, checked: checked)
    }

    var isGPU: Bool { kernelClass == .gpu }

    // MARK: choices

    /// The linear kernel for an M x K input with `format` weights: the best-ranked variant that
    /// supports the shape (and passed its check where one is needed); the class's first choice
    /// when none does, so that encode names the shape it cannot run.
    public func linear(m: Int, k: Int, format: WeightFormat = .f32) -> LinearOp.Variant {
        let candidates = linearCandidates
        return candidates.first { v in
            // Below 32 rows a tensor-core tile is mostly padding: the SIMT tile does as well.
            if v == .coopmat, m < Self.coopmatMinRows { return false }
            return LinearOp.supports(v, caps: capabilities, m: m, k: k, format: format) && usable("linear." + v.rawValue)
        } ?? candidates.first { $0.rawValue == "tiled" } ?? candidates[0]
    }

    /// Every linear variant in this class's order of preference.
    public var linearCandidates: [LinearOp.Variant] {
        let ranking = Self.linearRanking[kernelClass] ?? []
        let ranked = ranking.compactMap { LinearOp.Variant(rawValue: $0) }
        return ranked + LinearOp.Variant.allCases.filter { !ranked.contains($0) }
    }

    /// False for a variant that needs a check and has not passed one here.
    func usable(_ name: String) -> Bool {
        guard checked.contains(name) else { return true }
        return verified?(name) ?? false
    }

    /// Dense convolution work block (see conv2d.comp): CPUs unroll a large block; its JIT time
    /// grows with k*k, so kernels past 3x3 get a smaller one.
    public func conv2dTile(kernel: Int) -> Conv2DOp.Tile {
        guard !isGPU else { return Conv2DOp.Tile(width: 4, height: 1, channelGroups: 1) }
        return kernel <= 3 ? Conv2DOp.Tile(width: 8, height: 2, channelGroups: 2) : Conv2DOp.Tile(width: 4, height: 2, channelGroups: 1)
    }

    public var depthwiseTile: DepthwiseConv2DOp.Tile { isGPU ? DepthwiseConv2DOp.Tile(width: 4, height: 1) : DepthwiseConv2DOp.Tile(width: 8, height: 2) }

    /// How flash attention (vision, causal prefill) reads K and V.
    public var attention: AttentionVariant { isGPU ? .staged : .direct }

    public var decodeAttention: DecodeAttentionOp.Variant { isGPU ? .rowPerInvocation : .keysPerInvocation }

    /// Key ranges per kv head in decode attention: enough workgroups to fill a GPU; a CPU
    /// device has a few cores.
    public var decodeAttentionSplits: Int { isGPU ? 32 : 2 }

    /// Decode applies silu(gate) * up inside the down projection's GEMV on GPUs, where a token
    /// is bound by weight reads and per-dispatch costs and the repeated silu is nearly free;
    /// CPU devices pay for every exp and little for a dispatch (measured ~6% slower fused).
    public var fusesSwiGLU: Bool { isGPU }

    /// Decode folds each RMSNorm into the GEMVs after it on GPUs, for the same reason: the
    /// extra reads of the one input row (its sum of squares, the norm weight) hit the cache next
    /// to the weight rows. On a CPU device every load is a gather and they cost like weight
    /// loads (measured 0.5B q4 decode ~530 -> ~860 ms/token folded on lavapipe).
    public var foldsNorms: Bool { isGPU }

    /// Storage of the vision encoder's and projector's maps (arithmetic fp32): f16 wherever the
    /// device can store it, in both classes, since it halves the encoder's memory traffic.
    public var visionActivations: StorageType { capabilities.storageBuffer16BitAccess ? .f16 : .f32 }

    private var sixteenBitMath: Bool { capabilities.shaderFloat16 && capabilities.storageBuffer16BitAccess }

    /// Storage of the decoder's activation rows (norms, softmax and accumulators stay fp32, and
    /// so does the residual stream between layers): f16 on the GPU class where the device has
    /// fp16 arithmetic and 16-bit storage.
    public var decoderActivations: StorageType { isGPU && sixteenBitMath ? .f16 : .f32 }

    /// Storage of the KV cache (half the bytes in f16): as the decoder's activations.
    public var kvCache: StorageType { isGPU && sixteenBitMath ? .f16 : .f32 }

    /// One line for `devices`, `run --verbose` and bench headers.
    public var summary: String {
        let how = choice == .auto ? "auto: \(capabilities.type) device" : "forced"
        return "kernels \(kernelClass.rawValue) (\(how)); linear \(linearCandidates.map(\.rawValue).joined(separator: " > ")), "
            + "attention \(attention.rawValue), decode attention \(decodeAttention.rawValue) x \(decodeAttentionSplits), "
            + "SwiGLU \(fusesSwiGLU ? "fused" : "separate"), norms \(foldsNorms ? "folded" : "separate"), decoder \(decoderActivations.rawValue), KV cache \(kvCache.rawValue)"
    }
}

extension Device {
    /// The kernel policy of this device (see KernelPolicy).
    public var kernelPolicy: KernelPolicy { KernelPolicy(device: self) }
}
