import Foundation

/// One tensor inside a .safetensors file: its dtype, shape and bytes (memory-mapped).
public struct TensorEntry {
    public enum DType: String { case bf16 = "BF16", f16 = "F16", f32 = "F32", i64 = "I64" }
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let file: SafetensorsFile
    let range: Range<Int>   // within the file's data area

    public var count: Int { shape.reduce(1, *) }

    /// The values as fp32 (bf16 and fp16 widened exactly).
    public func floats() throws -> [Float] {
        try file.data.withUnsafeBytes { raw -> [Float] in
            let base = raw.baseAddress! + file.dataStart + range.lowerBound
            switch dtype {
            case .f32:
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .bf16:
                return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
            case .f16:
                return (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))) }
            case .i64:
                throw CheckpointError("\(file.url.lastPathComponent): tensor \(name) is I64, expected a floating-point tensor")
            }
        }
    }
}

/// A memory-mapped .safetensors file whose header has been validated.
public final class SafetensorsFile {
    public let url: URL
    let data: Data
    let dataStart: Int
    public private(set) var tensors: [String: TensorEntry] = [:]

    static let maxHeaderBytes = 100 << 20

    public init(url: URL) throws {
        self.url = url
        let name = url.lastPathComponent
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw CheckpointError("\(url.path): cannot read (\(error.localizedDescription))")
        }
        guard data.count >= 8 else { throw CheckpointError("\(name): truncated (\(data.count) bytes, no header length)") }
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)).clamped(to: UInt64(Int.max))) }
        guard headerLength <= Self.maxHeaderBytes else { throw CheckpointError("\(name): header length \(headerLength) is over the \(Self.maxHeaderBytes)-byte limit (corrupt file?)") }
        guard 8 + headerLength <= data.count else {
            throw CheckpointError("\(name): header length \(headerLength) runs past the end of the \(data.count)-byte file (truncated?)")
        }
        dataStart = 8 + headerLength
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) } catch {
            throw CheckpointError("\(name): the header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw CheckpointError("\(name): the header is not a JSON object") }
        let dataSize = data.count - dataStart
        var ranges: [(Range<Int>, String)] = []
        for (key, value) in header where key != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offsets.count == 2 else {
                throw CheckpointError("\(name): tensor \(key) has a malformed header entry")
            }
            guard let dtype = TensorEntry.DType(rawValue: dtypeName) else {
                throw CheckpointError("\(name): tensor \(key) has dtype \(dtypeName); supported are BF16, F16, F32 (and I64 counters)")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw CheckpointError("\(name): tensor \(key) has offsets \(offsets) outside the \(dataSize)-byte data area (truncated file?)")
            }
            let elementSize = dtype == .f32 ? 4 : dtype == .i64 ? 8 : 2
            let (count, overflow) = shape.reduce((1, false)) { acc, d in let r = acc.0.multipliedReportingOverflow(by: d); return (r.partialValue, acc.1 || r.overflow) }
            guard !overflow, count * elementSize == offsets[1] - offsets[0] else {
                throw CheckpointError("\(name): tensor \(key) has shape \(shape) x \(dtypeName) = \(count * elementSize) bytes but \(offsets[1] - offsets[0]) bytes of data")
            }
            ranges.append((offsets[0]..<offsets[1], key))
            tensors[key] = TensorEntry(name: key, dtype: dtype, shape: shape, file: self, range: offsets[0]..<offsets[1])
        }
        ranges.sort { $0.0.lowerBound < $1.0.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.0.upperBound > b.0.lowerBound && !a.0.isEmpty && !b.0.isEmpty {
            throw CheckpointError("\(name): tensors \(a.1) and \(b.1) overlap in the data area")
        }
    }
}

private extension UInt64 {
    func clamped(to limit: UInt64) -> UInt64 { Swift.min(self, limit) }
}

/// All tensors of a model folder: `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json`, or every `*.safetensors` file.
public struct TensorStore {
    public let folder: URL
    public private(set) var entries: [String: TensorEntry] = [:]

    public init(folder: URL) throws {
        self.folder = folder
        let fm = FileManager.default
        let index = folder.appending(path: "model.safetensors.index.json")
        var files: [URL]
        if fm.fileExists(atPath: index.path) {
            guard let data = try? Data(contentsOf: index),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw CheckpointError("\(index.lastPathComponent): not a valid index (no weight_map)")
            }
            files = Set(map.values).sorted().map { folder.appending(path: $0) }
        } else if fm.fileExists(atPath: folder.appending(path: "model.safetensors").path) {
            files = [folder.appending(path: "model.safetensors")]
        } else {
            files = ((try? fm.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
                .filter { $0.pathExtension == "safetensors" }.sorted { $0.path < $1.path }
        }
        guard !files.isEmpty else { throw CheckpointError("\(folder.path): no .safetensors weights found") }
        for url in files {
            guard fm.fileExists(atPath: url.path) else { throw CheckpointError("\(url.lastPathComponent): listed in the index but missing") }
            let file = try SafetensorsFile(url: url)
            for (k, v) in file.tensors { entries[k] = v }
        }
    }

    public func entry(_ name: String) throws -> TensorEntry {
        guard let e = entries[name] else { throw CheckpointError("\(folder.lastPathComponent): missing tensor \(name)") }
        return e
    }

    /// The tensor as fp32 after checking its shape.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        let e = try entry(name)
        if let shape, e.shape != shape {
            throw CheckpointError("\(e.file.url.lastPathComponent): tensor \(name) has shape \(e.shape), expected \(shape)")
        }
        return try e.floats()
    }

    public func has(_ name: String) -> Bool { entries[name] != nil }
}
