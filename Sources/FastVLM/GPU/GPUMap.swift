import Ops

/// A feature map on the device in HWC order (pixel-major, channels contiguous), stored as its
/// tensor's type (fp32, or fp16 with the encoder's fp16 activations). In
/// this layout a 1x1 conv is a GEMM over pixels, channel LayerNorm is a row norm, and the
/// final map already is the token matrix [H*W][C].
public struct GPUMap {
    public let tensor: GPUTensor
    public let channels: Int
    public let height: Int
    public let width: Int

    public var pixels: Int { height * width }
}
