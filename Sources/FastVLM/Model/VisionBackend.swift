/// The operations FastViTHD is built from. The CPU reference executes them at once; the GPU
/// backend records them into a command sequence. `key` names the weight (for upload caching).
public protocol VisionBackend {
    associatedtype Tensor

    /// Any convolution in the tower (dense, depthwise, channel-multiplier-2, 1x1), bias if present.
    func conv(_ x: Tensor, _ w: ConvWeights, key: String, gelu: Bool) throws -> Tensor
    /// y = residual + scale * act(x W^T + b) per pixel (a 1x1 conv); scale and residual optional.
    func pointwise(_ x: Tensor, _ w: LinearWeights, key: String, gelu: Bool, scale: [Float]?, residual: Tensor?) throws -> Tensor
    func layerNormChannels(_ x: Tensor, _ norm: NormWeights, key: String) throws -> Tensor
    /// residual + scale * proj(MHSA(x)) with head_dim 32, no mask.
    func attention(_ x: Tensor, qkv: LinearWeights, proj: LinearWeights, key: String, scale: [Float], residual: Tensor) throws -> Tensor
    /// x * sigmoid(expand(relu(reduce(mean_hw(x))))), then GELU.
    func squeezeExciteGELU(_ x: Tensor, reduce: LinearWeights, expand: LinearWeights, key: String) throws -> Tensor
    /// The final map as tokens [H*W][C], token = row * W + col.
    func tokens(_ x: Tensor) throws -> Tensor
}

public enum FastViTHD {
    /// pixels [3, S, S] -> tokens [(S/64)^2][C_out].
    public static func forward<B: VisionBackend>(_ w: FastViTHDWeights, pixels: B.Tensor, on b: B) throws -> B.Tensor {
        var x = pixels
        for (i, conv) in w.stem.enumerated() {
            x = try b.conv(x, conv, key: "stem.\(i)", gelu: true)
        }
        for (s, stage) in w.stages.enumerated() {
            let key = "stages.\(s)"
            if let down = stage.downsample {
                x = try b.conv(x, down.conv, key: key + ".downsample.0", gelu: true)
                x = try b.conv(x, down.pointwise, key: key + ".downsample.1", gelu: true)
            }
            if let pe = stage.positionEmbedding {
                x = try b.conv(x, pe, key: key + ".pos_emb", gelu: false)
            }
            for (i, block) in stage.blocks.enumerated() {
                let bkey = key + ".blocks.\(i)"
                switch block {
                case .repMixer(let r):
                    x = try b.conv(x, r.mixer, key: bkey + ".token_mixer", gelu: false)
                    x = try convFFN(x, r.ffn, scale: r.layerScale, key: bkey + ".mlp", on: b)
                case .attention(let a):
                    let normed = try b.layerNormChannels(x, a.norm, key: bkey + ".norm")
                    x = try b.attention(normed, qkv: a.qkv, proj: a.proj, key: bkey + ".token_mixer", scale: a.layerScale1, residual: x)
                    x = try convFFN(x, a.ffn, scale: a.layerScale2, key: bkey + ".mlp", on: b)
                }
            }
        }
        x = try b.conv(x, w.convExp, key: "final_conv", gelu: false)
        x = try b.squeezeExciteGELU(x, reduce: w.seReduce, expand: w.seExpand, key: "final_conv.se")
        return try b.tokens(x)
    }

    /// x + gamma * fc2(GELU(fc1(dwconv7x7_bn(x)))).
    static func convFFN<B: VisionBackend>(_ x: B.Tensor, _ f: FastViTHDWeights.ConvFFN, scale: [Float], key: String, on b: B) throws -> B.Tensor {
        let h = try b.conv(x, f.depthwise, key: key + ".conv", gelu: false)
        let u = try b.pointwise(h, f.fc1, key: key + ".fc1", gelu: true, scale: nil, residual: nil)
        return try b.pointwise(u, f.fc2, key: key + ".fc2", gelu: false, scale: scale, residual: x)
    }
}
