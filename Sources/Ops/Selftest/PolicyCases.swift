import VulkanCore

extension Selftest {
    /// The ops as the models call them, with no variant named: what the device's KernelPolicy
    /// (its `--kernels` class) chooses, end to end. The bodies ask the policy when they run, so
    /// building the catalog never runs a quick check.
    static func policyCases(_ device: Device) -> [Case] {
        let name = "default (\(KernelPolicy(capabilities: device.capabilities, choice: device.kernels).kernelClass.rawValue) class)"
        var cases: [Case] = []
        for (m, n, k) in [(1, 130, 100), (37, 61, 100)] {
            cases.append(Case(op: "policy linear", variant: name, shape: "\(m)x\(n)x\(k) gelu") { device in
                try linear(device, m: m, n: n, k: k, format: .f16, storage: .f32, activation: .gelu, bias: true, variant: nil)
            })
        }
        cases.append(Case(op: "policy conv2d", variant: name, shape: "3->96 17x14 k3 s2") { device in
            try conv2d(device, cin: 3, cout: 96, h: 17, w: 14, k: 3, s: 2, weights: .f16, storage: .f32, tile: nil, gelu: true)
        })
        cases.append(Case(op: "policy depthwise", variant: name, shape: "12x1 10x11 k7 s2") { device in
            try depthwiseConv(device, cin: 12, m: 1, h: 10, w: 11, k: 7, s: 2, storage: .f32, vec4: nil, tile: nil, gelu: false)
        })
        cases.append(Case(op: "policy vision attention", variant: name, shape: "N65 C64 hd32") { device in
            try visionAttention(device, n: 65, c: 64, hd: 32, storage: .f32, variant: nil)
        })
        let prefill = CausalShape(t: 33, p0: 40, heads: 4, kvHeads: 2, hd: 64, capacity: 100)
        cases.append(Case(op: "policy causal attention", variant: name, shape: prefill.description) { device in
            try causalAttention(device, prefill, variant: nil)
        })
        let decode = CausalShape(t: 1, p0: 199, heads: 7, kvHeads: 1, hd: 64, capacity: 300)
        cases.append(Case(op: "policy decode attention", variant: name, shape: decode.description) { device in
            try decodeAttention(device, decode, splits: device.kernelPolicy.decodeAttentionSplits, variant: nil)
        })
        return cases
    }
}
