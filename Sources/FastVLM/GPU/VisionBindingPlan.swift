import Ops
import VulkanCore

/// The largest buffer the GPU encoder binds at input side S, found by running FastViTHD's
/// forward pass on shapes alone: every map, the attention's packed qkv rows and the fp32 input.
/// Devices limit one binding (`maxStorageBufferRange`: 128 MiB on lavapipe, 4 GiB on NVIDIA), so
/// this bounds the input sizes a device can run before anything is allocated.
final class VisionBindingPlan: VisionBackend {
    struct Shape { var channels: Int, height: Int, width: Int }

    let elementBytes: Int
    private(set) var largest: (bytes: Int, what: String)

    /// - Parameter elementBytes: bytes per activation (2 for fp16 storage, 4 for fp32).
    init(_ vision: FastViTHDWeights, size s: Int, elementBytes: Int) throws {
        self.elementBytes = elementBytes
        largest = (3 * s * s * 4, "the fp32 input image 3x\(s)x\(s)")
        _ = try FastViTHD.forward(vision, pixels: Shape(channels: 3, height: s, width: s), on: self)
    }

    /// The largest side (a multiple of 64, at most `size`) whose bindings fit `limit` bytes; nil when none.
    static func largestFitting(_ vision: FastViTHDWeights, below size: Int, elementBytes: Int, limit: Int) throws -> Int? {
        for s in stride(from: size, through: ImageSize.multiple, by: -ImageSize.multiple)
        where try VisionBindingPlan(vision, size: s, elementBytes: elementBytes).largest.bytes <= limit {
            return s
        }
        return nil
    }

    private func note(_ channels: Int, _ height: Int, _ width: Int, _ what: @autoclosure () -> String) -> Shape {
        let bytes = channels * height * width * elementBytes
        if bytes > largest.bytes { largest = (bytes, "\(what()) \(channels)x\(height)x\(width)") }
        return Shape(channels: channels, height: height, width: width)
    }

    func conv(_ x: Shape, _ w: ConvWeights, key: String, gelu: Bool) throws -> Shape {
        note(w.outChannels, Reference.convOutputSize(x.height, kernel: w.kernel, stride: w.stride),
             Reference.convOutputSize(x.width, kernel: w.kernel, stride: w.stride), key)
    }

    func pointwise(_ x: Shape, _ w: LinearWeights, key: String, gelu: Bool, scale: [Float]?, residual: Shape?) throws -> Shape {
        note(w.outFeatures, x.height, x.width, key)
    }

    func layerNormChannels(_ x: Shape, _ norm: NormWeights, key: String) throws -> Shape { x }

    func attention(_ x: Shape, qkv: LinearWeights, proj: LinearWeights, key: String, scale: [Float], residual: Shape) throws -> Shape {
        _ = note(3 * x.channels, x.height, x.width, key + " packed qkv")
        return x
    }

    func squeezeExciteGELU(_ x: Shape, reduce: LinearWeights, expand: LinearWeights, key: String) throws -> Shape { x }

    func tokens(_ x: Shape) throws -> Shape { x }
}
