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
    /// The most pixels a file may decode to; larger images are refused from their header,
    /// before any pixel is allocated. The decoded buffer is at most 4 bytes per pixel (400 MB).
    public static let maxPixels: UInt64 = 100_000_000

    /// Width and height from the file's header, checked against `maxPixels`, without decoding
    /// pixels: what the commands check before they spend time loading a model.
    public static func header(_ url: URL) throws -> (width: Int, height: Int) {
        try header(try read(url), name: url.lastPathComponent)
    }

    public static func header(_ data: Data, name: String) throws -> (width: Int, height: Int) {
        var width: Int32 = 0, height: Int32 = 0
        try call(name, data) { bytes, count, message, capacity in
            kind(bytes, count) == .png ? ic_png_header(bytes, count, &width, &height, message, capacity)
                                       : ic_jpeg_header(bytes, count, &width, &height, message, capacity)
        }
        guard UInt64(width) * UInt64(height) <= maxPixels else {
            throw ImageError(description: "\(name): image too large: \(width)x\(height) pixels is above the limit of \(maxPixels) pixels")
        }
        return (Int(width), Int(height))
    }

    /// Decodes the whole file and drops the pixels: throws what preparing it would throw.
    public static func check(_ url: URL) throws {
        _ = try decodePixels(try read(url), name: url.lastPathComponent, channels: 3)
    }

    /// Decodes a PNG or JPEG, recognised by its first bytes (not by its extension).
    public static func load(_ url: URL) throws -> RGBAImage {
        try decode(try read(url), name: url.lastPathComponent)
    }

    public static func decode(_ data: Data, name: String) throws -> RGBAImage {
        let image = try decodePixels(data, name: name, channels: 4)
        return RGBAImage(width: image.width, height: image.height, rgba: Array(image.mutablePixels))
    }

    /// Decodes in place: PNG as RGBA; JPEG as `channels` (3 or 4), at a reduced DCT scale
    /// when the picture stays at least `reducedFor` (long and short side) large.
    static func decodePixels(_ data: Data, name: String, channels: Int, reducedFor minimum: (long: Int, short: Int) = (0, 0)) throws -> DecodedImage {
        var image = ic_image()
        try call(name, data) { bytes, count, message, capacity in
            kind(bytes, count) == .png
                ? ic_decode_png(bytes, count, maxPixels, &image, message, capacity)
                : ic_decode_jpeg(bytes, count, maxPixels, Int32(minimum.long), Int32(minimum.short), Int32(channels), &image, message, capacity)
        }
        guard image.pixels != nil else { throw ImageError(description: "\(name): decoder returned no pixels") }
        return DecodedImage(taking: image)
    }

    static func read(_ url: URL) throws -> Data {
        if let problem = InputFile.problem(url) { throw ImageError(description: "\(url.path): \(problem)") }
        do { return try Data(contentsOf: url) } catch {
            throw ImageError(description: "\(url.path): cannot read (\(error.localizedDescription))")
        }
    }

    private enum Kind { case png, jpeg }

    private static func kind(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Kind? {
        if count >= 4 && bytes[0] == 0x89 && bytes[1] == 0x50 && bytes[2] == 0x4E && bytes[3] == 0x47 { return .png }
        if count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    /// Runs one codec call on the file's bytes (no copy) and turns its status into an error.
    private static func call(_ name: String, _ data: Data,
                             _ body: (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 256)
        var format: Kind?
        let status: Int32 = data.withUnsafeBytes { raw in
            guard let bytes = raw.bindMemory(to: UInt8.self).baseAddress, let k = kind(bytes, raw.count) else { return -1 }
            format = k
            return message.withUnsafeMutableBufferPointer { body(bytes, raw.count, $0.baseAddress!, $0.count) }
        }
        guard let format else { throw ImageError(description: "\(name): not a PNG or JPEG image") }
        let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case Int(IC_OK): return
        case Int(IC_TOO_LARGE): throw ImageError(description: "\(name): image too large: \(detail)")
        case Int(IC_NO_MEMORY): throw ImageError(description: "\(name): out of memory decoding: \(detail)")
        case Int(IC_NOT_IMAGE): throw ImageError(description: "\(name): \(detail)")
        default: throw ImageError(description: "\(name): corrupt or truncated \(format == .png ? "PNG" : "JPEG"): \(detail)")
        }
    }
}
