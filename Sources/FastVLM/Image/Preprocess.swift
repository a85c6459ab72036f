import Dispatch
import Foundation

/// How pixels reach the vision tower (spec section 6).
public enum PreprocessMode: String, Sendable, CaseIterable {
    /// Apple's `process_images` with `image_aspect_ratio: pad`: alpha dropped, padded to a
    /// black square (image centred), bicubic resize to S x S, /255.
    case apple
    /// transformers' CLIPImageProcessor: alpha composited on white, shortest edge -> S,
    /// centre crop S x S, /255.
    case hf
}

/// Image preparation: pixel values [3][S][S] (CHW, RGB, values k/255) from a picture.
///
/// Memory: besides the decoded picture (at most 4 bytes x `ImageFile.maxPixels`, checked from
/// the header; a JPEG is decoded at a reduced scale when that keeps it at least S large) and the
/// 12 x S^2 bytes of output, preparation holds per core one band of horizontally resized rows
/// (`BicubicResize.bandBudget`, 8 MiB, or one output row's source rows when more) and the
/// coefficient tables (16 bytes per source pixel of the long side at most). Nothing is sized
/// from the square of the long side: Apple's padding and transformers' resize-then-crop are
/// never built, only the S x S window the model sees.
public enum Preprocess {
    /// Prepares a file: decodes it (JPEG at a reduced scale when much larger than S) and resizes.
    public static func pixels(file url: URL, size s: Int, mode: PreprocessMode) throws -> [Float] {
        try pixels(data: try ImageFile.read(url), name: url.lastPathComponent, size: s, mode: mode)
    }

    /// Prepares the bytes of a PNG or JPEG file (`name` is for messages).
    public static func pixels(data: Data, name: String, size s: Int, mode: PreprocessMode) throws -> [Float] {
        let (width, height) = try ImageFile.header(data, name: name)
        let keep = Int((Double(s) * reducingGap).rounded(.up))
        let minimum = mode == .apple ? (long: keep, short: 0) : (long: 0, short: keep)
        let image = try ImageFile.decodePixels(data, name: name, channels: 3, reducedFor: minimum)
        if mode == .hf && image.channels == 4 { compositeOnWhite(image.mutablePixels) }
        return prepare(image.view, size: s, mode: mode, original: (width, height), reduction: image.reduction)
    }

    /// A JPEG is decoded at a reduced DCT scale only while the side the resize reads stays at
    /// least this many times S, so the bicubic filter still does most of the reduction (Pillow's
    /// `reducing_gap` idea).
    nonisolated(unsafe) static var reducingGap = 1.5

    /// Prepares a decoded picture.
    public static func pixels(_ image: RGBAImage, size s: Int, mode: PreprocessMode) -> [Float] {
        var rgba = image.rgba
        if mode == .hf { rgba.withUnsafeMutableBufferPointer { compositeOnWhite($0) } }
        return rgba.withUnsafeBufferPointer { buf in
            prepare(PixelView(base: buf.baseAddress!, width: image.width, height: image.height, channels: 4), size: s, mode: mode)
        }
    }

    /// The two resize axes of `mode` for a width x height picture, stored at `reduction` of that
    /// size as `stored` pixels (a JPEG decoded at a reduced scale).
    static func axes(width w: Int, height h: Int, size s: Int, mode: PreprocessMode, reduction f: Double = 1,
                     stored: (width: Int, height: Int)? = nil) -> (x: ResampleAxis, y: ResampleAxis) {
        let (sw, sh) = stored ?? (w, h)
        switch mode {
        case .apple:
            // The square canvas of side max(w, h) with the picture centred on black.
            let side = max(w, h)
            let (dx, dy) = w > h ? (0, (side - h) / 2) : ((side - w) / 2, 0)
            return (ResampleAxis(inSize: side, outSize: s, outputs: 0..<s, offset: dx, sourceSize: w, reduction: f, storedSize: sw),
                    ResampleAxis(inSize: side, outSize: s, outputs: 0..<s, offset: dy, sourceSize: h, reduction: f, storedSize: sh))
        case .hf:
            // Shortest edge -> S, then the centre S x S of the resized picture.
            let short = min(w, h), long = max(w, h)
            let longSide = Int(Double(s) * Double(long) / Double(short))
            let (rw, rh) = w <= h ? (s, longSide) : (longSide, s)
            let (cx, cy) = ((rw - s) / 2, (rh - s) / 2)
            return (ResampleAxis(inSize: w, outSize: rw, outputs: cx..<cx + s, reduction: f, storedSize: sw),
                    ResampleAxis(inSize: h, outSize: rh, outputs: cy..<cy + s, reduction: f, storedSize: sh))
        }
    }

    /// `original`: the picture's size in its file when `image` holds it at `reduction` of that.
    static func prepare(_ image: PixelView, size s: Int, mode: PreprocessMode, original: (width: Int, height: Int)? = nil,
                        reduction: Double = 1) -> [Float] {
        let (w, h) = original ?? (image.width, image.height)
        let (x, y) = axes(width: w, height: h, size: s, mode: mode, reduction: reduction, stored: (image.width, image.height))
        return [Float](unsafeUninitializedCapacity: 3 * s * s) { buffer, count in
            buffer.initialize(repeating: 0)
            BicubicResize.resample(image, x: x, y: y, into: buffer.baseAddress!, size: s)
            count = 3 * s * s
        }
    }

    /// Pillow's `alpha_composite` over opaque white, in its 7-bit fixed point, in place on RGBA
    /// (opaque pixels stay as they are), rows spread over the cores.
    static func compositeOnWhite(_ rgba: UnsafeMutableBufferPointer<UInt8>) {
        let pixels = rgba.count / 4
        let chunk = 1 << 16
        let base = UnsafeSendable(rgba.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: (pixels + chunk - 1) / chunk) { part in
            let bits: UInt32 = 7
            let p = base.pointer
            for i in part * chunk..<min(pixels, (part + 1) * chunk) {
                let a = UInt32(p[i * 4 + 3])
                if a == 255 { continue }
                let outa255 = a * 255 + 255 * (255 - a)
                let coef1 = a * 255 * 255 * (1 << bits) / outa255
                let coef2 = 255 * (1 << bits) - coef1
                for c in 0..<3 {
                    let t = UInt32(p[i * 4 + c]) * coef1 + 255 * coef2 + (0x80 << bits)
                    p[i * 4 + c] = UInt8(truncatingIfNeeded: (((t >> 8) + t) >> 8) >> bits)
                }
                p[i * 4 + 3] = 255
            }
        }
    }
}
