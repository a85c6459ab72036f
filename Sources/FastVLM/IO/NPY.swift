import Foundation

/// Reads and writes NumPy `.npy` files holding little-endian float32 arrays (format 1.0-3.0).
public enum NPY {
    public struct Array {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        data.append(contentsOf: header.utf8)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        try data.write(to: url)
    }

    /// Largest header accepted (numpy writes well under 1 KiB; version 1 allows 64 KiB).
    public static let maxHeaderBytes = 1 << 16
    /// Most dimensions accepted (numpy's own limit is 64).
    public static let maxDimensions = 64

    /// Reads a float32 `.npy` file. Non-finite values (NaN, inf) are an error unless
    /// `allowNonFinite`: every array this program reads (pixel values, goldens) must be finite,
    /// and a NaN pixel would otherwise surface much later as a confusing overflow.
    public static func read(_ url: URL, allowNonFinite: Bool = false) throws -> Array {
        if let problem = InputFile.problem(url) { throw FormatError(description: "\(url.path): \(problem)") }
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw FormatError(description: "\(url.path): cannot read (\(error.localizedDescription))")
        }
        return try parse(data, name: url.path, allowNonFinite: allowNonFinite)
    }

    /// Parses the bytes of a float32 `.npy` file; `name` prefixes every error.
    public static func parse(_ data: Data, name: String, allowNonFinite: Bool = false) throws -> Array {
        func fail(_ why: String) -> FormatError { FormatError(description: "\(name): \(why)") }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1..<6]) == Swift.Array("NUMPY".utf8) else { throw fail("not a .npy file") }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail("unknown .npy format version \(major).\(bytes[7])") }
        let headerStart = major == 1 ? 10 : 12
        guard bytes.count >= headerStart else { throw fail("truncated header") }
        let headerLength = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerLength <= maxHeaderBytes else { throw fail("header of \(headerLength) bytes (at most \(maxHeaderBytes) accepted)") }
        guard headerStart + headerLength <= data.count else { throw fail("header longer than the file") }
        let base = data.startIndex
        let header = String(decoding: data[base + headerStart..<base + headerStart + headerLength], as: UTF8.self)
        guard header.contains("'descr': '<f4'") else {
            throw fail("dtype must be little-endian float32 ('<f4'), header is \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard header.contains("'fortran_order': False") else { throw fail("Fortran-ordered arrays are not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw fail("no shape in header")
        }
        let parts = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard parts.count <= maxDimensions else { throw fail("\(parts.count) dimensions (at most \(maxDimensions))") }
        let shape = try parts.map { part -> Int in
            guard let n = Int(part), n >= 0 else { throw fail("bad shape entry '\(part)'") }
            return n
        }
        // Checked: a forged shape must not wrap around to a small count.
        var count = 1
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product <= Int.max / 4 else { throw fail("shape \(shape) has more elements than can be addressed") }
            count = product
        }
        let start = headerStart + headerLength
        guard data.count - start >= count * 4 else {
            throw fail("\(data.count - start) data bytes for shape \(shape) (needs \(count * 4))")
        }
        let values = data[base + start..<base + start + count * 4].withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
        }
        if !allowNonFinite, let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw fail("element \(position(of: bad, in: shape)) is \(values[bad]) (the values must be finite numbers)")
        }
        return Array(shape: shape, values: values)
    }

    /// The index tuple of flat element `flat`, like [0, 2, 10, 11].
    static func position(of flat: Int, in shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}
