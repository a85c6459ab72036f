import Ops

/// Rows [rows][width] in host memory.
public struct HostRows {
    public var values: [Float]
    public var rows: Int
    public var width: Int

    public init(values: [Float], rows: Int, width: Int) {
        self.values = values
        self.rows = rows
        self.width = width
    }
}

/// Qwen2 on the CPU in fp32 with a growing KV cache: the reference for the GPU decoder.
public final class CPULanguageBackend: LanguageBackend {
    public let config: Qwen2Config
    private var keys: [[Float]]
    private var values: [[Float]]
    /// Tokens already in the cache (the position of the next one).
    public private(set) var length = 0

    public init(config: Qwen2Config) {
        self.config = config
        keys = Array(repeating: [], count: config.layers)
        values = Array(repeating: [], count: config.layers)
    }

    public func reset() {
        keys = Array(repeating: [], count: config.layers)
        values = Array(repeating: [], count: config.layers)
        length = 0
    }

    /// Keeps the first `n` positions of the cache.
    public func truncate(to n: Int) throws {
        guard n >= 0, n <= length else { throw CheckpointError("cannot truncate a cache of \(length) positions to \(n)") }
        let width = config.kvHeads * config.headDim
        for l in keys.indices {
            keys[l] = Array(keys[l].prefix(n * width))
            values[l] = Array(values[l].prefix(n * width))
        }
        length = n
    }

    public func rmsNorm(_ x: HostRows, weight: [Float], key: String) throws -> HostRows {
        HostRows(values: Reference.rmsNorm(x.values, rows: x.rows, width: x.width, weight: weight, eps: config.rmsNormEps), rows: x.rows, width: x.width)
    }

    public func linear(_ x: HostRows, _ w: LinearWeights, key: String, silu: Bool, residual: HostRows?) throws -> HostRows {
        var y = Reference.linear(x: x.values, m: x.rows, k: w.inFeatures, weight: try w.weight.floats(), n: w.outFeatures, bias: w.bias)
        if silu { y = y.map(Reference.silu) }
        if let residual { for i in y.indices { y[i] += residual.values[i] } }
        return HostRows(values: y, rows: x.rows, width: w.outFeatures)
    }

    public func multiply(_ a: HostRows, _ b: HostRows) throws -> HostRows {
        HostRows(values: zip(a.values, b.values).map(*), rows: a.rows, width: a.width)
    }

    public func attention(q: HostRows, k: HostRows, v: HostRows, layer: Int) throws -> HostRows {
        let c = config
        var q = q.values, k = k.values
        Reference.rope(&q, tokens: q.count / (c.heads * c.headDim), heads: c.heads, headDim: c.headDim, firstPosition: length, theta: c.ropeTheta)
        let t = k.count / (c.kvHeads * c.headDim)
        Reference.rope(&k, tokens: t, heads: c.kvHeads, headDim: c.headDim, firstPosition: length, theta: c.ropeTheta)
        keys[layer] += k
        values[layer] += v.values
        let total = keys[layer].count / (c.kvHeads * c.headDim)
        let out = Reference.causalAttention(q: q, tokens: t, keys: keys[layer], values: values[layer], length: total,
                                            heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim)
        if layer == c.layers - 1 { length = total }
        return HostRows(values: out, rows: t, width: c.heads * c.headDim)
    }

    public func lastRow(_ x: HostRows) throws -> HostRows {
        HostRows(values: Array(x.values[(x.rows - 1) * x.width..<x.rows * x.width]), rows: 1, width: x.width)
    }

    public func logits(_ x: HostRows, lmHead: WeightTensor, key: String) throws -> HostRows {
        HostRows(values: Reference.linear(x: x.values, m: 1, k: x.width, weight: try lmHead.floats(), n: config.vocabSize, bias: nil), rows: 1, width: config.vocabSize)
    }
}
