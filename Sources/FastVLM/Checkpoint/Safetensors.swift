import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One tensor inside a .safetensors file: its dtype, shape and where its bytes are. Nothing is
/// read until asked, and what is read is dropped from the process afterwards (the page cache
/// keeps it), so loading a model never holds more than a piece of it in host memory.
public struct TensorEntry: @unchecked Sendable {
    public enum DType: String, Sendable { case bf16 = "BF16", f16 = "F16", f32 = "F32", i64 = "I64" }
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let file: SafetensorsFile
    let range: Range<Int>   // within the file's data area

    public var count: Int { shape.reduce(1, *) }
    var elementSize: Int { Self.size(of: dtype) }

    static func size(of dtype: DType) -> Int {
        switch dtype {
        case .f32: return 4
        case .i64: return 8
        case .f16, .bf16: return 2
        }
    }

    /// The values as fp32 (bf16 and fp16 widened exactly).
    public func floats() throws -> [Float] {
        try [Float](unsafeUninitializedCapacity: count) { out, n in
            try read(elements: 0..<count, into: out)
            n = count
        }
    }

    /// Elements `elements` (flat indices) as fp32 into `out`.
    func read(elements: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard dtype != .i64 else {
            throw CheckpointError("\(file.url.lastPathComponent): tensor \(name) is I64, expected a floating-point tensor")
        }
        let size = elementSize
        let dtype = dtype
        file.withBytes(range.lowerBound + elements.lowerBound * size..<range.lowerBound + elements.upperBound * size) { raw in
            let base = raw.baseAddress!
            let n = elements.count
            switch dtype {
            case .f32:
                for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
            case .bf16:
                for i in 0..<n { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16) }
            case .f16:
                for i in 0..<n { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))) }
            case .i64:
                break
            }
        }
    }

    /// The stored bytes of elements `elements`.
    func withStoredBytes(elements: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try file.withBytes(range.lowerBound + elements.lowerBound * elementSize..<range.lowerBound + elements.upperBound * elementSize, body)
    }
}

/// A memory-mapped .safetensors file whose header has been validated: every size is checked
/// for overflow and against the file before anything is allocated from it.
public final class SafetensorsFile: @unchecked Sendable {
    public let url: URL
    private let base: UnsafeMutableRawPointer?
    private let fileSize: Int
    let dataStart: Int
    /// What the header says of each tensor; entries (which hold the file) are made on demand,
    /// so the file does not hold itself and is unmapped when its last entry goes.
    private var layout: [String: (dtype: TensorEntry.DType, shape: [Int], range: Range<Int>)] = [:]

    public var tensors: [String: TensorEntry] {
        layout.reduce(into: [:]) { $0[$1.key] = TensorEntry(name: $1.key, dtype: $1.value.dtype, shape: $1.value.shape, file: self, range: $1.value.range) }
    }

    static let maxHeaderBytes = 100 << 20
    static let maxDimensions = 8
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    public init(url: URL) throws {
        self.url = url
        let name = url.lastPathComponent
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError("\(url.path): cannot read (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw CheckpointError("\(url.path): not a regular file") }
        fileSize = Int(info.st_size)
        guard fileSize >= 8 else {
            base = nil
            dataStart = 0
            throw CheckpointError("\(name): truncated (\(fileSize) bytes, no header length)")
        }
        guard let mapped = mmap(nil, fileSize, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            base = nil
            dataStart = 0
            throw CheckpointError("\(url.path): cannot map (\(String(cString: strerror(errno))))")
        }
        base = mapped
        let headerLength = UInt64(littleEndian: mapped.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            dataStart = 0
            throw CheckpointError("\(name): header length \(headerLength) is over the \(Self.maxHeaderBytes)-byte limit (corrupt file?)")
        }
        guard 8 + Int(headerLength) <= fileSize else {
            dataStart = 0
            throw CheckpointError("\(name): header length \(headerLength) runs past the end of the \(fileSize)-byte file (truncated?)")
        }
        dataStart = 8 + Int(headerLength)
        let headerBytes = Data(bytes: mapped + 8, count: Int(headerLength))
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw CheckpointError("\(name): the header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw CheckpointError("\(name): the header is not a JSON object") }
        release(0..<dataStart)
        let dataSize = fileSize - dataStart
        var ranges: [(Range<Int>, String)] = []
        for (key, value) in header where key != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shapeList = info["shape"] as? [Any], let offsetList = info["data_offsets"] as? [Any], offsetList.count == 2 else {
                throw CheckpointError("\(name): tensor \(key) has a malformed header entry")
            }
            let shape = try shapeList.map { try Self.integer($0, "\(name): tensor \(key) has a shape that is not a list of integers") }
            let offsets = try offsetList.map { try Self.integer($0, "\(name): tensor \(key) has data_offsets that are not integers") }
            guard let dtype = TensorEntry.DType(rawValue: dtypeName) else {
                throw CheckpointError("\(name): tensor \(key) has dtype \(dtypeName); supported are BF16, F16, F32 (and I64 counters)")
            }
            guard shape.count <= Self.maxDimensions, shape.allSatisfy({ $0 >= 0 }) else {
                throw CheckpointError("\(name): tensor \(key) has shape \(shape) (at most \(Self.maxDimensions) non-negative dimensions)")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw CheckpointError("\(name): tensor \(key) has offsets \(offsets) outside the \(dataSize)-byte data area (truncated file?)")
            }
            var bytes = TensorEntry.size(of: dtype)
            var overflow = false
            for d in shape {
                let r = bytes.multipliedReportingOverflow(by: d)
                bytes = r.partialValue
                overflow = overflow || r.overflow
            }
            guard !overflow, bytes == offsets[1] - offsets[0] else {
                let size = overflow ? "more than \(Int.max)" : "\(bytes)"
                throw CheckpointError("\(name): tensor \(key) has shape \(shape) x \(dtypeName) = \(size) bytes but \(offsets[1] - offsets[0]) bytes of data")
            }
            ranges.append((offsets[0]..<offsets[1], key))
            layout[key] = (dtype, shape, offsets[0]..<offsets[1])
        }
        ranges.sort { $0.0.lowerBound < $1.0.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.0.upperBound > b.0.lowerBound && !a.0.isEmpty && !b.0.isEmpty {
            throw CheckpointError("\(name): tensors \(a.1) and \(b.1) overlap in the data area")
        }
    }

    deinit {
        if let base { munmap(base, fileSize) }
    }

    private static func integer(_ value: Any, _ message: String) throws -> Int {
        guard let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded(),
              abs(n.doubleValue) < 0x1p62 else { throw CheckpointError(message) }
        return n.intValue
    }

    /// Bytes `range` of the data area, then dropped from the process's memory.
    func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        defer { release(dataStart + range.lowerBound..<dataStart + range.upperBound) }
        return try body(UnsafeRawBufferPointer(start: base! + dataStart + range.lowerBound, count: range.count))
    }

    /// Drops the whole pages inside `range` (file offsets) from the process: a read-only private
    /// mapping reads them again from the page cache when touched.
    private func release(_ range: Range<Int>) {
        guard let base else { return }
        let first = (range.lowerBound + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        let last = range.upperBound / Self.pageSize * Self.pageSize
        if last > first { madvise(base + first, last - first, MADV_DONTNEED) }
    }
}

/// All tensors of a model folder: `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json`, or every `*.safetensors` file.
public struct TensorStore: Sendable {
    public let folder: URL
    public private(set) var entries: [String: TensorEntry] = [:]

    static let maxIndexBytes = 64 << 20

    public init(folder: URL) throws {
        self.folder = folder
        let fm = FileManager.default
        let index = folder.appending(path: "model.safetensors.index.json")
        var files: [URL]
        if fm.fileExists(atPath: index.path) {
            let size = (try? fm.attributesOfItem(atPath: index.path)[.size] as? Int) ?? 0
            guard size <= Self.maxIndexBytes, let data = try? Data(contentsOf: index),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw CheckpointError("\(index.lastPathComponent): not a valid index (no weight_map)")
            }
            files = Set(map.values).sorted().map { folder.appending(path: $0) }
            guard files.allSatisfy({ $0.deletingLastPathComponent().standardizedFileURL == folder.standardizedFileURL }) else {
                throw CheckpointError("\(index.lastPathComponent): a shard name points outside the model folder")
            }
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

    public func has(_ name: String) -> Bool { entries[name] != nil }
}
