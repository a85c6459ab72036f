import CImageCodecs

/// Interleaved 8-bit pixels in memory someone else owns: 3 channels (RGB) or 4 (RGBA).
struct PixelView {
    let base: UnsafePointer<UInt8>
    let width: Int
    let height: Int
    let channels: Int
}

/// Pixels as the C decoders return them, owned here and freed once: the decoder's buffer is
/// used in place, never copied into a Swift array.
final class DecodedImage: @unchecked Sendable {
    private var image: ic_image

    init(taking image: ic_image) { self.image = image }

    deinit { ic_free(&image) }

    var width: Int { Int(image.width) }
    var height: Int { Int(image.height) }
    var channels: Int { Int(image.channels) }
    /// Stored size / file size: the DCT scale a JPEG was decoded at (1 at full size).
    var reduction: Double { Double(image.scale_num) / Double(max(image.scale_denom, 1)) }
    var byteCount: Int { width * height * channels }
    var view: PixelView { PixelView(base: UnsafePointer(image.pixels), width: width, height: height, channels: channels) }
    var mutablePixels: UnsafeMutableBufferPointer<UInt8> { UnsafeMutableBufferPointer(start: image.pixels, count: byteCount) }
}
