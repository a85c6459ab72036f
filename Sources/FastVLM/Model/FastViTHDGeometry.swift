/// The shape of a FastViTHD encoder (spec section 1.3): what a checkpoint's tensor shapes imply,
/// written down so weights can be made without a checkpoint. Stage s has width
/// `stemWidth << s`; every stage after the first starts with a PatchEmbed that doubles the
/// width and halves the resolution; stages from `firstAttentionStage` on use attention mixers
/// and start with a RepCPE. The kernels are fixed by the architecture.
public struct FastViTHDGeometry: Sendable, Equatable {
    public let imageSize: Int
    public let stemWidth: Int
    /// Blocks per stage.
    public let depths: [Int]
    public let firstAttentionStage: Int
    /// ConvFFN hidden width = mlpRatio * stage width.
    public let mlpRatio: Int
    /// Squeeze-excite bottleneck width inside conv_exp.
    public let seWidth: Int

    public static let stemKernel = 3
    public static let mixerKernel = 3
    public static let ffnKernel = 7
    public static let downsampleKernel = 7
    public static let positionKernel = 7
    public static let convExpKernel = 3

    /// The released encoder (`fastvithd` / timm `fastvit_mci3`) at 1024x1024: 122.7M parameters.
    public static let fastViTHD = FastViTHDGeometry(checked: (imageSize: 1024, stemWidth: 96, depths: [2, 12, 24, 4, 2],
                                                              firstAttentionStage: 3, mlpRatio: 4, seWidth: 192))

    /// A geometry of your own (tests use down-scaled ones); throws when the forward pass could
    /// not run on it.
    public init(imageSize: Int, stemWidth: Int, depths: [Int], firstAttentionStage: Int, mlpRatio: Int = 4, seWidth: Int) throws {
        let headDim = FastViTHDWeights.AttentionBlock.headDim
        guard imageSize > 0, imageSize % 64 == 0 else {
            throw SyntheticModelError.invalidGeometry("image size \(imageSize) is not a positive multiple of 64")
        }
        guard depths.count == 5 else {
            throw SyntheticModelError.invalidGeometry("FastViTHD has 5 stages (total stride 64), got \(depths.count)")
        }
        guard stemWidth > 0, mlpRatio > 0, seWidth > 0, depths.allSatisfy({ $0 >= 0 }) else {
            throw SyntheticModelError.invalidGeometry("widths, depths and ratios must be positive")
        }
        guard (0...depths.count).contains(firstAttentionStage) else {
            throw SyntheticModelError.invalidGeometry("first attention stage \(firstAttentionStage) is outside 0...\(depths.count)")
        }
        for s in firstAttentionStage..<depths.count where (stemWidth << s) % headDim != 0 {
            throw SyntheticModelError.invalidGeometry("stage \(s) width \(stemWidth << s) is not a multiple of head_dim \(headDim)")
        }
        self.init(checked: (imageSize, stemWidth, depths, firstAttentionStage, mlpRatio, seWidth))
    }

    private init(checked g: (imageSize: Int, stemWidth: Int, depths: [Int], firstAttentionStage: Int, mlpRatio: Int, seWidth: Int)) {
        imageSize = g.imageSize
        stemWidth = g.stemWidth
        depths = g.depths
        firstAttentionStage = g.firstAttentionStage
        mlpRatio = g.mlpRatio
        seWidth = g.seWidth
    }

    public var stageCount: Int { depths.count }
    public var widths: [Int] { (0..<stageCount).map { stemWidth << $0 } }
    public func usesAttention(stage: Int) -> Bool { stage >= firstAttentionStage }
    /// Channels of the final feature map: conv_exp doubles the last width (3072).
    public var outChannels: Int { 2 * (stemWidth << (stageCount - 1)) }
    /// Image tokens: (S / 64)^2 (256 at 1024x1024).
    public var tokenCount: Int { let side = imageSize / 64; return side * side }

    /// Parameters of the inference-form weights (fused convs, ConvFFN BatchNorm folded).
    public var parameterCount: Int {
        var tensors = SyntheticTensors(seed: 0)
        _ = SyntheticWeightBuilder.vision(self, &tensors)
        return tensors.parameters
    }
}
