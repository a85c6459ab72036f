import Dispatch
import Ops
import VulkanCore

/// FastViTHD and the projector on the GPU: recorded once into two command sequences (the
/// encoder, then the projector, so each can be timed as its own phase) and replayed for
/// every image. Input: pixel values [3][S][S] (CHW, as preprocessing gives them). Output:
/// vision tokens [N][C] and projected rows [N][hidden], both left on the device for the
/// language model; the projected rows are fp32 whatever the activation storage.
public final class GPUVisionEncoder {
    public let device: Device
    /// Storage of every intermediate map of the tower and the projector.
    public let activationType: StorageType
    public let imageSize: Int
    public let tokenCount: Int
    public let visionChannels: Int
    public let hidden: Int
    private let input: DeviceBuffer
    private let arena: TensorArena
    private let weights: GPUWeightStore
    private let visionSequence: CommandSequence
    private let projectorSequence: CommandSequence
    private let features: GPUTensor
    private let projected: GPUTensor
    public private(set) var visionProfile: PhaseProfile?
    public private(set) var projectorProfile: PhaseProfile?

    /// - Parameters:
    ///   - formats: storage of the GEMM and dense-conv weights (16-bit in the product, fp32 for
    ///     exact comparisons).
    ///   - activationType: storage of the feature maps, qkv rows and projector rows (fp16 halves
    ///     the memory traffic; needs storageBuffer16BitAccess). Accumulation is fp32 either way.
    ///   - imageSize: the input side S the sequences are recorded and the memory planned for, any
    ///     multiple of 64 ((S/64)^2 tokens); nil: the checkpoint's.
    public init(device: Device, vision: FastViTHDWeights, projector: ProjectorWeights, formats: WeightFormats,
                activationType: StorageType = .f32, profiling: Bool = false, imageSize: Int? = nil) throws {
        self.device = device
        self.activationType = activationType
        let s = imageSize ?? vision.imageSize
        try ImageSize.check(s)
        try Self.checkBindings(vision, size: s, activations: activationType, device: device)
        self.imageSize = s
        tokenCount = ImageSize.tokens(s)
        visionChannels = vision.outChannels
        hidden = projector.fc2.outFeatures
        input = try device.allocate(bytes: 3 * s * s * 4)
        arena = TensorArena(device: device)
        weights = GPUWeightStore(device: device, formats: formats)

        visionSequence = CommandSequence(device: device, label: "vision", profiling: profiling)
        let backend = GPUVisionBackend(seq: visionSequence, arena: arena, weights: weights, activations: activationType)
        let image = try backend.map(channels: 3, height: s, width: s)
        try LayoutOp.chwToHWC(visionSequence, x: input.view, y: image.tensor.view, channels: 3, height: s, width: s, activations: activationType)
        let tokens = try FastViTHD.forward(vision, pixels: image, on: backend)
        guard tokens.height == tokenCount, tokens.channels == projector.fc1.inFeatures else {
            throw CheckpointError("the vision tower gives \(tokens.height) tokens of \(tokens.channels); the projector expects \(tokenCount) of \(projector.fc1.inFeatures)")
        }
        features = tokens.tensor
        try visionSequence.finish()

        projectorSequence = CommandSequence(device: device, label: "projector", profiling: profiling)
        let fc1 = try weights.linear("projector.fc1", projector.fc1)
        let fc2 = try weights.linear("projector.fc2", projector.fc2)
        let h = try arena.tensor([tokenCount, projector.fc1.outFeatures], activationType)
        projected = try arena.tensor([tokenCount, hidden], .f32)
        try LinearOp.encode(projectorSequence, x: features.view, weight: fc1.weight, bias: fc1.biasView, y: h.view, m: tokenCount, activation: .gelu,
                            activations: activationType, label: "projector.fc1")
        if activationType == .f16 {
            // LinearOp reads and writes one storage type; the language model reads fp32 rows.
            let half = try arena.tensor([tokenCount, hidden], .f16)
            try LinearOp.encode(projectorSequence, x: h.view, weight: fc2.weight, bias: fc2.biasView, y: half.view, m: tokenCount, activations: .f16,
                                label: "projector.fc2")
            try ConvertOp.halfToFloat(projectorSequence, x: half.view, y: projected.view, count: tokenCount * hidden, label: "projector.to_f32")
        } else {
            try LinearOp.encode(projectorSequence, x: h.view, weight: fc2.weight, bias: fc2.biasView, y: projected.view, m: tokenCount, label: "projector.fc2")
        }
        try projectorSequence.finish()
    }

    /// Refuses a size whose largest map would exceed one storage binding of this device.
    static func checkBindings(_ vision: FastViTHDWeights, size s: Int, activations: StorageType, device: Device) throws {
        let limit = device.capabilities.maxStorageBufferRange
        let plan = try VisionBindingPlan(vision, size: s, elementBytes: activations.size)
        guard plan.largest.bytes > limit else { return }
        let fitting = try VisionBindingPlan.largestFitting(vision, below: s, elementBytes: activations.size, limit: limit)
        throw ImageSizeError(description: "image size \(s) does not fit \(device.capabilities.name): \(plan.largest.what) needs "
            + "\(plan.largest.bytes >> 20) MiB in one buffer, above the device's \(limit >> 20) MiB binding limit (maxStorageBufferRange)"
            + (fitting.map { "; the largest size that fits with \(activations) activations is \($0)" } ?? ""))
    }

    /// Device bytes of the uploaded weights.
    public var weightBytes: Int { weights.bytes }

    /// Device bytes held: weights and activation arena.
    public var deviceBytes: Int { weights.bytes + arena.reservedBytes + input.size }

    /// FLOPs of one encoder pass (vision tower only, as the kernels count them).
    public var visionFlops: Double { visionSequence.recordedFlops }

    /// Dispatches, barriers and submits of one encoder replay.
    public var visionStats: SequenceStats { visionSequence.perRunStats }

    /// Uploads `pixels` and runs the vision encoder; returns the seconds it took.
    @discardableResult
    public func encode(pixels: [Float]) throws -> Double {
        guard pixels.count == 3 * imageSize * imageSize else {
            throw CheckpointError("pixel values hold \(pixels.count) values, the encoder needs 3x\(imageSize)x\(imageSize)")
        }
        try pixels.withUnsafeBytes { try device.write($0, to: input.view) }
        let start = DispatchTime.now().uptimeNanoseconds
        try visionSequence.run()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        visionProfile = PhaseProfile(name: "vision", timings: visionSequence.timings, stats: visionSequence.perRunStats, wallSeconds: wall)
        return wall
    }

    /// Runs the projector on the last encoded image; returns the seconds it took.
    @discardableResult
    public func project() throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try projectorSequence.run()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        projectorProfile = PhaseProfile(name: "projector", timings: projectorSequence.timings, stats: projectorSequence.perRunStats, wallSeconds: wall)
        return wall
    }

    /// Projected rows [N][hidden] on the device (the language model's image embeddings).
    public var projectedRows: BufferView { projected.view }

    /// Vision tokens [N][C] (downloads; fp16 activations are widened to Float).
    public func downloadFeatures() throws -> [Float] {
        let count = tokenCount * visionChannels
        guard features.type == .f16 else { return try device.download(features.view, as: Float.self, count: count) }
        return try device.download(features.view, as: UInt16.self, count: count).map { Float(Float16(bitPattern: $0)) }
    }

    /// Whether the last projection is free of inf and NaN (downloads the rows).
    public func projectedRowsAreFinite() throws -> Bool {
        try downloadProjected().allSatisfy(\.isFinite)
    }

    /// Projected rows [N][hidden] (downloads).
    public func downloadProjected() throws -> [Float] {
        try device.download(projected.view, as: Float.self, count: tokenCount * hidden)
    }
}
