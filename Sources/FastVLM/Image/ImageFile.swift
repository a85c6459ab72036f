import CImageCodecs
import Foundation

/// A decoded picture: RGBA, 8 bits per channel, row-major.
public struct RGBAImage: Sendable {
    public var width: Int
    public var height: Int
    public var rgba: [UInt8]

    public init(width: Int, height: Int, rgba: [UInt8]) {
        self.width = width
        self.height = height
        self.rgba = rgba
    }
}

public struct ImageError: Error, CustomStringConvertible {
    public let description: String
}

public enum ImageFile {
    /// Images above this are refused from their header, before any pixel is allocated.
    public static let maxPixels: UInt64 = 100_000_000

    /// Decodes a PNG or JPEG, recognised by its first bytes (not by its extension).
    public static func load(_ url: URL) throws -> RGBAImage {
        if let problem = InputFile.problem(url) { throw ImageError(description: "\(url.path): \(problem)") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ImageError(description: "\(url.path): cannot read (\(error.localizedDescription))")
        }
        return try decode(data, name: url.lastPathComponent)
    }

    public static func decode(_ data: Data, name: String) throws -> RGBAImage {
        let bytes = [UInt8](data)
        let isPNG = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
        let isJPEG = bytes.starts(with: [0xFF, 0xD8, 0xFF])
        guard isPNG || isJPEG else { throw ImageError(description: "\(name): not a PNG or JPEG image") }
        var image = ic_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { buf in
            isPNG ? ic_decode_png(buf.baseAddress, buf.count, maxPixels, &image, &message, message.count)
                  : ic_decode_jpeg(buf.baseAddress, buf.count, maxPixels, &image, &message, message.count)
        }
        defer { ic_free(&image) }
        let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case Int(IC_OK): break
        case Int(IC_TOO_LARGE): throw ImageError(description: "\(name): image too large: \(detail)")
        case Int(IC_NO_MEMORY): throw ImageError(description: "\(name): out of memory decoding: \(detail)")
        case Int(IC_NOT_IMAGE): throw ImageError(description: "\(name): \(detail)")
        default: throw ImageError(description: "\(name): corrupt or truncated \(isPNG ? "PNG" : "JPEG"): \(detail)")
        }
        let count = Int(image.width) * Int(image.height) * 4
        guard let rgba = image.rgba else { throw ImageError(description: "\(name): decoder returned no pixels") }
        return RGBAImage(width: Int(image.width), height: Int(image.height), rgba: Array(UnsafeBufferPointer(start: rgba, count: count)))
    }
}
