import ArgumentParser
import Dispatch
import Foundation
import Ops
import VulkanCore

/// Linear / GEMV throughput at the model's shapes, beside the CPU reference for the same work.
struct BenchOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "GFLOP/s and GB/s of the linear and GEMV kernels at FastVLM's shapes (median and best of the repeats), with the CPU reference's time.")

    @Option(help: "Vulkan device index (see `fastvlm-gpu devices`); default: FASTVLM_DEVICE or the best device.")
    var device: Int?

    @Option(help: "Kernel family: auto (from the device type), gpu or cpu (default: FASTVLM_KERNELS, else auto).")
    var kernels: KernelChoice?

    @Option(help: "Timed repetitions per shape (after one warm-up).")
    var repeats = 5

    @Option(parsing: .upToNextOption, help: "Shapes as MxNxK (default: the model's shapes).")
    var shape: [String] = []

    @Option(help: "Weight format: \(WeightFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var weights: String = "f16"

    @Option(help: "Activation storage: f32 or f16.")
    var activations: String = "f32"

    @Option(parsing: .upToNextOption, help: "Kernels to time on every shape, in the same run: \(Self.kernelNames.joined(separator: ", ")) (default: the device's choice; tiled-v1 is the previous tiled kernel, a baseline).")
    var kernel: [String] = []

    static let tiledV1 = "tiled-v1"
    static let kernelNames = LinearOp.Variant.allCases.map(\.rawValue) + [tiledV1]

    @Option(parsing: .upToNextOption, help: "Tiles of the tiled kernel to time, as MxN with sides 64 or 128 (default: its own choice per shape).")
    var tile: [String] = []

    @Flag(help: "Skip the CPU reference timing.")
    var noCPU = false

    @Flag(help: "Print a JSON array instead of a table.")
    var json = false

    static let modelShapes = [(256, 4864, 896), (256, 896, 4864), (4096, 1536, 384), (1, 4864, 896), (1, 151_936, 896)]

    struct Row: Encodable {
        let op: String, kernel: String, tile: String?, m: Int, n: Int, k: Int, weight_dtype: String, activation_dtype: String
        let ms: Double, best_ms: Double, gflops: Double, gbps: Double, cpu_ms: Double?
    }

    func validate() throws {
        guard WeightFormat(rawValue: weights) != nil else { throw ValidationError("--weights must be one of \(WeightFormat.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard StorageType(rawValue: activations) != nil else { throw ValidationError("--activations must be f16 or f32") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        for s in shape { _ = try parse(s) }
        for k in kernel where !Self.kernelNames.contains(k) {
            throw ValidationError("--kernel '\(k)' is not one of \(Self.kernelNames.joined(separator: ", "))")
        }
        for t in tile where LinearBenchmark.TiledTile(t) == nil { throw ValidationError("--tile '\(t)' is not MxN with sides 64 or 128") }
    }

    func run() throws {
        guard let type = WeightFormat(rawValue: weights) else { throw ValidationError("--weights must be one of \(WeightFormat.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard let act = StorageType(rawValue: activations) else { throw ValidationError("--activations must be f16 or f32") }
        let shapes = try shape.isEmpty ? Self.modelShapes : shape.map(parse)
        let gpu = try Device(index: device, kernels: kernels)
        if !json { FileHandle.standardError.write(Data("device: \(gpu.capabilities.name)\n\(gpu.kernelPolicy.summary)\n".utf8)) }
        // Each (kernel, tile) in turn on the same data: nil is the device's own choice.
        let variants: [String?] = kernel.isEmpty ? [nil] : kernel
        let tiles: [LinearBenchmark.TiledTile?] = tile.isEmpty ? [nil] : tile.compactMap { LinearBenchmark.TiledTile($0) }
        var rows: [Row] = []
        for (m, n, k) in shapes {
            let x = LinearBenchmark.values(m * k, seed: 1)
            let w = LinearBenchmark.values(n * k, seed: 2, scale: 0.05)
            var results: [LinearBenchmark.Result] = []
            for name in variants {
                let v = name.flatMap { LinearOp.Variant(rawValue: $0) }
                for t in (v == .tiled ? tiles : [nil]) {
                    results.append(try LinearBenchmark.measure(gpu, m: m, n: n, k: k, weights: type, activations: act, repeats: repeats,
                                                               x: x, w: w, variant: v, tile: t, tiledV1: name == Self.tiledV1))
                }
            }
            var cpuMs: Double?
            if !noCPU {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = Reference.linear(x: x, m: m, k: k, weight: w, n: n, bias: nil)
                cpuMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            for r in results {
                rows.append(Row(op: r.variant == .gemv ? "gemv" : "linear", kernel: r.variant.rawValue, tile: r.tile, m: m, n: n, k: k,
                                weight_dtype: type.rawValue, activation_dtype: act.rawValue, ms: r.ns / 1e6, best_ms: r.bestNs / 1e6,
                                gflops: r.gflops, gbps: r.gbps, cpu_ms: cpuMs))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            print(table(rows))
        }
    }

    func parse(_ s: String) throws -> (Int, Int, Int) {
        let parts = s.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("shape '\(s)' is not MxNxK") }
        return (parts[0], parts[1], parts[2])
    }

    func table(_ rows: [Row]) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        func num(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
        let header = ["op", "kernel", "tile", "M", "N", "K", "weights", "GPU ms", "best ms", "GFLOP/s", "GB/s", "CPU ms", "GPU speed-up"]
        let widths = [6, 9, 9, 6, 8, 6, 8, 10, 10, 9, 8, 10, 12]
        var lines = [zip(header, widths).map { pad($0, $1) }.joined()]
        for r in rows {
            let cells = [r.op, r.kernel, r.tile ?? "-", "\(r.m)", "\(r.n)", "\(r.k)", r.weight_dtype, num(r.ms, 3), num(r.best_ms, 3), num(r.gflops, 2), num(r.gbps, 2),
                         r.cpu_ms.map { num($0, 2) } ?? "-", r.cpu_ms.map { num($0 / r.ms, 2) + "x" } ?? "-"]
            lines.append(zip(cells, widths).map { pad($0, $1) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
