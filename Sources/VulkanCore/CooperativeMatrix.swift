import CVulkan

/// One cooperative-matrix multiply a device runs: D (M x N) = A (M x K) B (K x N) + C.
public struct CooperativeMatrixShape: Codable, Sendable, Hashable, CustomStringConvertible {
    public var m: Int
    public var n: Int
    public var k: Int
    public init(m: Int, n: Int, k: Int) { (self.m, self.n, self.k) = (m, n, k) }
    public var description: String { "\(m)x\(n)x\(k)" }
}

/// The fp16 x fp16 + fp32 -> fp32 subgroup-scope shapes a device reports, the one kind the
/// kernels use, per extension.
public struct CooperativeMatrixShapes: Codable, Sendable {
    /// VK_NV_cooperative_matrix, only when its feature, compute-stage support and the Vulkan
    /// memory model (which its SPIR-V declares) are all there: the shapes
    /// Shaders/linear_coopmat.comp can run.
    /// The device enables the extension at open when this is not empty.
    public var nv: [CooperativeMatrixShape]
    /// VK_KHR_cooperative_matrix (feature supported), reported only: Debian 12's glslang
    /// cannot compile GL_KHR_cooperative_matrix, so no kernel uses it yet.
    public var khr: [CooperativeMatrixShape]
    public init(nv: [CooperativeMatrixShape] = [], khr: [CooperativeMatrixShape] = []) { (self.nv, self.khr) = (nv, khr) }
}

/// One entry of vkGetPhysicalDeviceCooperativeMatrixProperties{NV,KHR}: both extensions number
/// component types (FLOAT16 = 0, FLOAT32 = 1) and scopes (SUBGROUP = 3) the same way.
public struct CooperativeMatrixProperty: Sendable {
    public var m, n, k: Int
    public var a, b, c, result: UInt32
    public var scope: UInt32
    public init(m: Int, n: Int, k: Int, a: UInt32, b: UInt32, c: UInt32, result: UInt32, scope: UInt32) {
        (self.m, self.n, self.k, self.a, self.b, self.c, self.result, self.scope) = (m, n, k, a, b, c, result, scope)
    }
    public static let float16: UInt32 = 0
    public static let float32: UInt32 = 1
    public static let subgroupScope: UInt32 = 3
}

extension CooperativeMatrixShape {
    /// The fp16 A and B, fp32 C and result, subgroup-scope shapes among `properties`, in the
    /// order reported, without repeats.
    public static func fp16AccumulatingFP32(_ properties: [CooperativeMatrixProperty]) -> [CooperativeMatrixShape] {
        var shapes: [CooperativeMatrixShape] = []
        for p in properties where p.a == CooperativeMatrixProperty.float16 && p.b == CooperativeMatrixProperty.float16
            && p.c == CooperativeMatrixProperty.float32 && p.result == CooperativeMatrixProperty.float32
            && p.scope == CooperativeMatrixProperty.subgroupScope && p.m > 0 && p.n > 0 && p.k > 0 {
            let shape = CooperativeMatrixShape(m: p.m, n: p.n, k: p.k)
            if !shapes.contains(shape) { shapes.append(shape) }
        }
        return shapes
    }
}

/// Structures and enums of VK_KHR_cooperative_matrix (Vulkan 1.3.255), declared here because
/// Debian 12's headers (1.3.239) predate it.
enum CooperativeMatrixKHR {
    static let name = "VK_KHR_cooperative_matrix"
    static let featuresType = VkStructureType(rawValue: 1_000_506_000)
    static let propertiesType: UInt32 = 1_000_506_001
    /// VkCooperativeMatrixPropertiesKHR: sType, pNext, then M, N, K, A, B, C, result types,
    /// saturatingAccumulation and scope as 32-bit words; 56 bytes with its pointer alignment.
    static let propertiesStride = 56
    typealias GetProperties = @convention(c) (VkPhysicalDevice?, UnsafeMutablePointer<UInt32>?, UnsafeMutableRawPointer?) -> VkResult
}

enum CooperativeMatrixNV {
    static let name = "VK_NV_cooperative_matrix"
}

extension PhysicalDevice {
    /// Which cooperative-matrix extensions the device supports with their feature on, and their
    /// fp16 -> fp32 shapes. `memoryModel`: the vulkanMemoryModel feature.
    static func cooperativeMatrixShapes(_ handle: VkPhysicalDevice, fn: InstanceFunctions, extensions: Set<String>,
                                        memoryModel: Bool) -> CooperativeMatrixShapes {
        var result = CooperativeMatrixShapes()
        if extensions.contains(CooperativeMatrixNV.name), memoryModel, computeStageHasNV(handle, fn: fn),
           cooperativeMatrixFeature(handle, fn: fn, type: VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV),
           let get = fn.getCooperativeMatrixPropertiesNV {
            var count: UInt32 = 0
            if get(handle, &count, nil) == VK_SUCCESS, count > 0 {
                var props = [VkCooperativeMatrixPropertiesNV](repeating: VkCooperativeMatrixPropertiesNV(), count: Int(count))
                for i in props.indices { props[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV }
                if get(handle, &count, &props) == VK_SUCCESS {
                    result.nv = CooperativeMatrixShape.fp16AccumulatingFP32(props.prefix(Int(count)).map {
                        CooperativeMatrixProperty(m: Int($0.MSize), n: Int($0.NSize), k: Int($0.KSize), a: $0.AType.rawValue, b: $0.BType.rawValue,
                                                  c: $0.CType.rawValue, result: $0.DType.rawValue, scope: $0.scope.rawValue)
                    })
                }
            }
        }
        if extensions.contains(CooperativeMatrixKHR.name),
           cooperativeMatrixFeature(handle, fn: fn, type: CooperativeMatrixKHR.featuresType),
           let get = fn.getCooperativeMatrixPropertiesKHR {
            var count: UInt32 = 0
            if get(handle, &count, nil) == VK_SUCCESS, count > 0 {
                let stride = CooperativeMatrixKHR.propertiesStride
                let raw = UnsafeMutableRawPointer.allocate(byteCount: Int(count) * stride, alignment: 8)
                defer { raw.deallocate() }
                raw.initializeMemory(as: UInt8.self, repeating: 0, count: Int(count) * stride)
                for i in 0..<Int(count) { raw.storeBytes(of: CooperativeMatrixKHR.propertiesType, toByteOffset: i * stride, as: UInt32.self) }
                if get(handle, &count, raw) == VK_SUCCESS {
                    result.khr = CooperativeMatrixShape.fp16AccumulatingFP32((0..<Int(count)).map { i in
                        // Words after sType (offset 0) and pNext (offset 8).
                        func word(_ w: Int) -> UInt32 { raw.load(fromByteOffset: i * stride + 16 + 4 * w, as: UInt32.self) }
                        return CooperativeMatrixProperty(m: Int(word(0)), n: Int(word(1)), k: Int(word(2)), a: word(3), b: word(4), c: word(5),
                                                         result: word(6), scope: word(8))
                    })
                }
            }
        }
        return result
    }

    /// Whether VK_NV_cooperative_matrix's supported stages include compute.
    private static func computeStageHasNV(_ handle: VkPhysicalDevice, fn: InstanceFunctions) -> Bool {
        var nv = VkPhysicalDeviceCooperativeMatrixPropertiesNV()
        nv.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV
        var props = VkPhysicalDeviceProperties2()
        props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
        withUnsafeMutablePointer(to: &nv) { pn in
            props.pNext = UnsafeMutableRawPointer(pn)
            fn.getPhysicalDeviceProperties2(handle, &props)
        }
        return nv.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT.rawValue != 0
    }

    /// The `cooperativeMatrix` feature of either extension: both feature structures are
    /// {sType, pNext, cooperativeMatrix, cooperativeMatrixRobustBufferAccess}.
    private static func cooperativeMatrixFeature(_ handle: VkPhysicalDevice, fn: InstanceFunctions, type: VkStructureType) -> Bool {
        var coop = VkPhysicalDeviceCooperativeMatrixFeaturesNV()
        coop.sType = type
        var features = VkPhysicalDeviceFeatures2()
        features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
        withUnsafeMutablePointer(to: &coop) { pc in
            features.pNext = UnsafeMutableRawPointer(pc)
            fn.getPhysicalDeviceFeatures2(handle, &features)
        }
        return coop.cooperativeMatrix != 0
    }
}
