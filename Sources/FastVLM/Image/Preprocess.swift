/// How pixels reach the vision tower (spec section 6).
public enum PreprocessMode: String, Sendable, CaseIterable {
    /// Apple's `process_images` with `image_aspect_ratio: pad`: alpha dropped, padded to a
    /// black square (image centred), bicubic resize to S x S, /255.
    case apple
    /// transformers' CLIPImageProcessor: alpha composited on white, shortest edge -> S,
    /// centre crop S x S, /255.
    case hf
}

public enum Preprocess {
    /// pixel values [3][S][S] (CHW, RGB, values k/255).
    public static func pixels(_ image: RGBAImage, size s: Int, mode: PreprocessMode) -> [Float] {
        switch mode {
        case .apple:
            let rgb = dropAlpha(image)
            let side = max(image.width, image.height)
            var square = [UInt8](repeating: 0, count: side * side * 3)
            let (dx, dy) = image.width > image.height ? (0, (side - image.height) / 2) : ((side - image.width) / 2, 0)
            for y in 0..<image.height {
                for x in 0..<image.width {
                    for c in 0..<3 { square[((y + dy) * side + x + dx) * 3 + c] = rgb[(y * image.width + x) * 3 + c] }
                }
            }
            let resized = BicubicResize.resize(square, width: side, height: side, channels: 3, toWidth: s, toHeight: s)
            return planar(resized, width: s, height: s, cropX: 0, cropY: 0, size: s)
        case .hf:
            let rgb = compositeOnWhite(image)
            let short = min(image.width, image.height), long = max(image.width, image.height)
            let longSide = Int(Double(s) * Double(long) / Double(short))
            let (w, h) = image.width <= image.height ? (s, longSide) : (longSide, s)
            let resized = BicubicResize.resize(rgb, width: image.width, height: image.height, channels: 3, toWidth: w, toHeight: h)
            return planar(resized, width: w, height: h, cropX: (w - s) / 2, cropY: (h - s) / 2, size: s)
        }
    }

    static func dropAlpha(_ image: RGBAImage) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.width * image.height * 3)
        for p in 0..<image.width * image.height { for c in 0..<3 { out[p * 3 + c] = image.rgba[p * 4 + c] } }
        return out
    }

    /// Pillow's `alpha_composite` over opaque white, in its 7-bit fixed point.
    static func compositeOnWhite(_ image: RGBAImage) -> [UInt8] {
        let bits: UInt32 = 7
        var out = [UInt8](repeating: 0, count: image.width * image.height * 3)
        for p in 0..<image.width * image.height {
            let a = UInt32(image.rgba[p * 4 + 3])
            let outa255 = a * 255 + 255 * (255 - a)
            let coef1 = a * 255 * 255 * (1 << bits) / outa255
            let coef2 = 255 * (1 << bits) - coef1
            for c in 0..<3 {
                let t = UInt32(image.rgba[p * 4 + c]) * coef1 + 255 * coef2 + (0x80 << bits)
                out[p * 3 + c] = UInt8(truncatingIfNeeded: (((t >> 8) + t) >> 8) >> bits)
            }
        }
        return out
    }

    static func planar(_ rgb: [UInt8], width: Int, height: Int, cropX: Int, cropY: Int, size s: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * s * s)
        for c in 0..<3 {
            for y in 0..<s {
                for x in 0..<s { out[(c * s + y) * s + x] = Float(rgb[((y + cropY) * width + x + cropX) * 3 + c]) / 255 }
            }
        }
        return out
    }
}
