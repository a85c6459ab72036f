import VulkanCore

/// Tile sizes of the GPU GEMM kernels, chosen per call from the shape and the device's limits
/// and passed to the shaders as specialization constants.
enum GEMMTiles {
    /// Shaders/linear_tiled.comp: 256 invocations, each 4 x 4 outputs per row / column group,
    /// 1 or 2 groups a side: 64 x 64, 128 x 64, 64 x 128 or 128 x 128 a workgroup.
    struct SIMT: Equatable, CustomStringConvertible {
        var mGroups: Int
        var nGroups: Int
        static let invocations = 256
        static let depth = 8
        var tileM: Int { 64 * mGroups }
        var tileN: Int { 64 * nGroups }
        /// Two buffers of `depth` K rows of (tile / 4 + 1) vec4s, for X and W.
        var sharedBytes: Int { 2 * Self.depth * (tileM / 4 + 1 + tileN / 4 + 1) * 16 }
        var specialization: [UInt32] { [UInt32(mGroups), UInt32(nGroups)] }
        var description: String { "\(tileM)x\(tileN)" }
    }

    /// Workgroups a grid should have before a bigger tile is worth its fewer, longer groups: a
    /// guess at a large GPU's compute units times two (Vulkan does not report their number).
    static let fillGroups = 128

    /// The biggest tile that fits the device and still gives `fillGroups` workgroups, else the
    /// smallest; nil if the device cannot run 256 invocations or the smallest tile's memory.
    static func simt(caps: DeviceCapabilities, m: Int, n: Int) -> SIMT? {
        guard caps.maxComputeWorkGroupInvocations >= SIMT.invocations else { return nil }
        let fitting = [SIMT(mGroups: 2, nGroups: 2), SIMT(mGroups: 2, nGroups: 1), SIMT(mGroups: 1, nGroups: 2), SIMT(mGroups: 1, nGroups: 1)]
            .filter { $0.sharedBytes <= caps.maxComputeSharedMemorySize }
        guard let smallest = fitting.last else { return nil }
        return fitting.first { t in
            (t.mGroups == 1 || m > 64) && (t.nGroups == 1 || n > 64)
                && Grid.ceilDiv(m, t.tileM) * Grid.ceilDiv(n, t.tileN) >= fillGroups
        } ?? smallest
    }

    /// Shaders/linear_coopmat.comp: warpsM x warpsN subgroups, each 2 x 2 cooperative tiles of
    /// `shape`; K in steps of `depth`.
    struct Coopmat: Equatable, CustomStringConvertible {
        var shape: CooperativeMatrixShape
        var subgroupSize: Int
        var warpsM = 2
        var warpsN = 2
        var depth: Int
        var tileM: Int { warpsM * 2 * shape.m }
        var tileN: Int { warpsN * 2 * shape.n }
        var invocations: Int { warpsM * warpsN * subgroupSize }
        /// fp16 X and W tiles with 8 halves of padding a row, plus an fp32 staging tile per subgroup.
        var sharedBytes: Int { (tileM + tileN) * (depth + 8) * 2 + warpsM * warpsN * shape.m * shape.n * 4 }
        /// Constant ids 0...6 of the shader.
        var specialization: [UInt32] {
            [invocations, shape.m, shape.n, shape.k, warpsM, warpsN, depth].map { UInt32($0) }
        }
        var description: String { "\(tileM)x\(tileN) of \(shape)" }
    }

    /// The tile for the device's NV shapes: among those the kernel can address (every side a
    /// multiple of 8, so shared-memory offsets stay 16-byte aligned) and whose tile fits the
    /// device, the one with the most multiply-adds per instruction (then the deepest K). Needs
    /// one fixed subgroup size: the shader maps subgroup ids onto the tile.
    static func coopmat(caps: DeviceCapabilities) -> Coopmat? {
        coopmat(shapes: caps.cooperativeMatrixShapes.nv, caps: caps)
    }

    static func coopmat(shapes: [CooperativeMatrixShape], caps: DeviceCapabilities) -> Coopmat? {
        guard caps.shaderFloat16, caps.subgroupSize > 0, caps.minSubgroupSize == caps.maxSubgroupSize else { return nil }
        let candidates = shapes.filter { $0.m % 8 == 0 && $0.n % 8 == 0 && $0.k % 8 == 0 }.map { shape in
            // About 32 values of K a step (a whole number of the shape's K).
            Coopmat(shape: shape, subgroupSize: caps.subgroupSize, depth: shape.k * max(1, 32 / shape.k))
        }.filter { $0.sharedBytes <= caps.maxComputeSharedMemorySize && $0.invocations <= caps.maxComputeWorkGroupInvocations }
        return candidates.max { a, b in
            (a.shape.m * a.shape.n * a.shape.k, a.shape.k) < (b.shape.m * b.shape.n * b.shape.k, b.shape.k)
        }
    }
}
