import VulkanCore

extension LinearOp {
    /// Y = X W^T with the previous 64 x 64 tiled kernel (Shaders/linear_tiled_v1.comp): only the
    /// baseline LinearBenchmark times the current tiled kernel against, on the same data.
    static func encodeTiledV1(_ seq: CommandSequence, x: BufferView, weight: LinearWeight, y: BufferView, m: Int, activations: StorageType) throws {
        let caps = seq.device.capabilities
        let (n, k) = (weight.rows, weight.cols)
        try require(weight.format.supports(cols: k), "linear v1: \(weight.format) weights cannot have \(k) columns")
        try requireActivations(activations, on: caps, "linear v1")
        let name = "linear_tiled_v1_" + weight.format.rawValue + (activations == .f16 ? "_a16" : "")
        let shader = try ShaderLibrary.variant(name, in: ShaderLibrary.linear_tiled_v1_variants, "linear v1: no kernel \(name)")
        let pipeline = try seq.device.pipeline(shader, bindings: 6, pushConstantSize: 36)
        for slice in slices(rows: n, rowBytes: weight.rowBytes, caps: caps) {
            let w = weight.rowSlice(first: slice.lowerBound, count: slice.count)
            let push: [UInt32] = [UInt32(m), UInt32(slice.count), UInt32(k), UInt32(slice.lowerBound), UInt32(n), 0, 0, 0, 0]
            let bytes = Double(slice.count * weight.rowBytes + (m * k + m * slice.count) * activations.size)
            try seq.dispatch(pipeline, [.read(x), .read(w), .read(x), .write(y), .read(x), .read(x)], push: push,
                             groups: (Grid.ceilDiv(slice.count, 64), Grid.ceilDiv(m, 64), 1), label: "linear tiled v1",
                             flops: 2.0 * Double(m) * Double(slice.count) * Double(k), bytes: bytes)
        }
    }
}
