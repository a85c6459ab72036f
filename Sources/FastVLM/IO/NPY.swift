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

    public static func read(_ url: URL) throws -> Array {
        if let problem = InputFile.problem(url) { throw FormatError(description: "\(url.path): \(problem)") }
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw FormatError(description: "\(url.path): cannot read (\(error.localizedDescription))")
        }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1..<6]) == Swift.Array("NUMPY".utf8) else {
            throw FormatError(description: "\(url.path): not a .npy file")
        }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        guard data.count >= headerStart else { throw FormatError(description: "\(url.path): truncated header") }
        let headerLength = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerStart + headerLength <= data.count else { throw FormatError(description: "\(url.path): header longer than the file") }
        let header = String(decoding: data[headerStart..<headerStart + headerLength], as: UTF8.self)
        guard header.contains("'descr': '<f4'") else {
            throw FormatError(description: "\(url.path): dtype must be little-endian float32 ('<f4'), header is \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard header.contains("'fortran_order': False") else { throw FormatError(description: "\(url.path): Fortran-ordered arrays are not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw FormatError(description: "\(url.path): no shape in header")
        }
        let shape = try header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { part -> Int in
            guard let n = Int(part), n >= 0 else { throw FormatError(description: "\(url.path): bad shape entry '\(part)'") }
            return n
        }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength
        guard data.count - start >= count * 4 else {
            throw FormatError(description: "\(url.path): \(data.count - start) data bytes for shape \(shape) (needs \(count * 4))")
        }
        let values = data[start..<start + count * 4].withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
        }
        return Array(shape: shape, values: values)
    }
}
