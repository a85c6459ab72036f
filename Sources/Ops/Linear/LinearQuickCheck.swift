import VulkanCore

extension LinearOp {
    /// Runs `variant` on this device at two small awkward shapes (M, N off every tile, K off
    /// every K step; fp16 and q8 weights; bias and GELU epilogue) and compares with the CPU
    /// reference: true when the results agree. For enabling a variant CI cannot test (coopmat)
    /// only after it worked on the user's device and driver. Throws when the device cannot run
    /// the variant at all, or on a Vulkan failure.
    public static func quickCheck(device: Device, variant: Variant) throws -> Bool {
        let m = variant == .gemv ? 5 : 37
        for (format, n, k) in [(WeightFormat.f16, 70, 100), (.q8, 70, 96)] {
            try require(supports(variant, caps: device.capabilities, m: m, k: k, format: format),
                        "linear quick check: the \(variant) kernel cannot run \(m)x\(n)x\(k) with \(format) weights on \(device.capabilities.name)"
                            + unsupportedReason(variant, caps: device.capabilities))
            // fp16-exact inputs, so a kernel that rounds X to fp16 (coopmat) loses nothing there.
            let x = LinearBenchmark.values(m * k, seed: UInt64(k)).map { Float(Float16($0)) }
            let w = LinearBenchmark.values(n * k, seed: UInt64(n + k), scale: 0.5)
            let b = LinearBenchmark.values(n, seed: UInt64(n))
            let weight = try LinearWeight(device: device, values: w, rows: n, cols: k, format: format)
            let (gx, gb, gy) = (try device.upload(x), try device.upload(b), try device.upload([Float](repeating: .nan, count: m * n)))
            let seq = CommandSequence(device: device, label: "linear quick check")
            try encode(seq, x: gx.view, weight: weight, bias: gb.view, y: gy.view, m: m, activation: .gelu, variant: variant)
            try seq.run()
            let got = try device.download(gy.view, as: Float.self, count: m * n)
            let expected = Reference.linear(x: x, m: m, k: k, weight: WeightPacking.roundTrip(w, rows: n, cols: k, format: format), n: n, bias: b)
                .map(Reference.gelu)
            // fp16 rounding of dequantized q8 weights stays near 1e-7; a wrong kernel is near 1.
            guard relativeSquaredError(got, expected) < 1e-5 else { return false }
        }
        return true
    }

    /// sum((a - b)^2) / sum(b^2); NaN (never below a bound) when `a` holds a NaN.
    static func relativeSquaredError(_ a: [Float], _ b: [Float]) -> Double {
        var (num, den) = (0.0, 0.0)
        for (u, v) in zip(a, b) {
            num += (Double(u) - Double(v)) * (Double(u) - Double(v))
            den += Double(v) * Double(v)
        }
        return den == 0 ? num : num / den
    }
}
