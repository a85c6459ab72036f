import Dispatch
import Foundation

/// Pillow's bicubic coefficients (`Image.resize(..., BICUBIC)` on 8-bit images, what Apple's
/// and transformers' slow preprocessing run) for one axis of a resize `inSize -> outSize`:
/// a = -0.5, the kernel widened by the downscale factor (antialiasing), weights normalised and
/// put in 22-bit fixed point. Only the outputs in `outputs` are kept (a centre crop), and the
/// input is a canvas on which the source occupies `[offset, offset + sourceSize)`: taps outside
/// it read zeros (Apple's black padding), so dropping them is exact and the padded canvas is
/// never built. A source decoded at a reduced scale (`reduction` < 1, stored `storedSize`
/// pixels) is sampled at the same canvas positions, with the kernel scaled to match.
struct ResampleAxis {
    static let precisionBits = 32 - 8 - 2

    /// First source index, tap count and first weight of each kept output.
    private(set) var starts: [Int] = []
    private(set) var counts: [Int] = []
    private(set) var offsets: [Int] = []
    /// Fixed-point weights of the taps that read the source, output after output.
    private(set) var weights: [Int32] = []
    /// Stored source pixels per output pixel (> 1 when reducing).
    let scale: Double
    /// Kept outputs that read any source pixel: one contiguous run (the others are zero).
    private(set) var live: Range<Int> = 0..<0

    static func filter(_ x: Double) -> Double {
        let a = -0.5, x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }

    init(inSize: Int, outSize: Int, outputs: Range<Int>, offset: Int = 0, sourceSize: Int? = nil, reduction: Double = 1, storedSize: Int? = nil) {
        let stored = storedSize ?? sourceSize ?? inSize
        let canvasScale = Double(inSize) / Double(outSize)
        scale = canvasScale * reduction
        let one = Double(1 << Self.precisionBits)
        var first: Int?, last = 0
        for (i, xx) in outputs.enumerated() {
            let (tap0, k) = reduction == 1
                ? Self.canvasTaps(xx, inSize: inSize, scale: canvasScale, offset: offset)
                : Self.reducedTaps(xx, inSize: inSize, scale: canvasScale, offset: offset, reduction: reduction)
            // Taps on the padding read 0 and are dropped.
            let lo = max(tap0, 0), hi = min(tap0 + k.count, stored)
            starts.append(lo)
            counts.append(max(0, hi - lo))
            offsets.append(weights.count)
            for j in lo..<max(lo, hi) {
                let w = k[j - tap0]
                weights.append(Int32(w < 0 ? -0.5 + w * one : 0.5 + w * one))
            }
            if hi > lo { first = first ?? i; last = i + 1 }
        }
        live = first.map { $0..<last } ?? 0..<0
    }

    /// Pillow's taps for output `xx` on the canvas, as source indices (the first may be negative)
    /// and normalised weights.
    static func canvasTaps(_ xx: Int, inSize: Int, scale: Double, offset: Int) -> (Int, [Double]) {
        let filterScale = max(scale, 1), support = 2 * filterScale
        let center = (Double(xx) + 0.5) * scale
        let xmin = max(Int(center - support + 0.5), 0)
        let xmax = min(Int(center + support + 0.5), inSize)
        let k = (xmin..<max(xmin, xmax)).map { filter((Double($0) - center + 0.5) / filterScale) }
        return (xmin - offset, normalised(k))
    }

    /// The same kernel in the coordinates of a source stored at `reduction` of its size: the
    /// canvas position and support scale by `reduction`; taps stay inside the scaled canvas.
    static func reducedTaps(_ xx: Int, inSize: Int, scale: Double, offset: Int, reduction f: Double) -> (Int, [Double]) {
        let filterScale = max(scale, 1) * f, support = 2 * filterScale
        let center = ((Double(xx) + 0.5) * scale - Double(offset)) * f
        let canvasLo = Int((-Double(offset) * f).rounded(.down)), canvasHi = Int(((Double(inSize - offset)) * f).rounded(.up))
        let jmin = max(Int((center - support + 0.5).rounded(.down)), canvasLo)
        let jmax = min(Int((center + support + 0.5).rounded(.down)), canvasHi)
        let k = (jmin..<max(jmin, jmax)).map { filter((Double($0) - center + 0.5) / filterScale) }
        return (jmin, normalised(k))
    }

    static func normalised(_ k: [Double]) -> [Double] {
        let total = k.reduce(0, +)
        return total == 0 ? k : k.map { $0 / total }
    }

    /// Source rows (or columns) the kept outputs `range` read.
    func sourceSpan(_ range: Range<Int>) -> Range<Int> {
        let used = range.filter { counts[$0] > 0 }
        guard let a = used.first, let b = used.last else { return 0..<0 }
        return starts[a]..<(starts[b] + counts[b])
    }
}

/// A two-pass resize (horizontal, then vertical, each rounded and clipped to 8 bits, as Pillow
/// does) straight into planar pixel values v/255. Output rows are cut into bands spread over
/// the cores; a band resizes horizontally only the source rows it reads, into a buffer of at
/// most `bandBudget` bytes (or the rows of one output row, when a single row needs more).
enum BicubicResize {
    static let bandBudget = 8 << 20

    /// Horizontally resized rows a band holds: rows it reads x live columns x 3 bytes.
    static func bandBytes(x: ResampleAxis, y: ResampleAxis, band: Range<Int>) -> Int {
        y.sourceSpan(band).count * x.live.count * 3
    }

    /// Output row bands for `y`'s live rows, with buffers near `bandBudget`.
    static func bands(x: ResampleAxis, y: ResampleAxis, workers: Int = ProcessInfo.processInfo.activeProcessorCount) -> [Range<Int>] {
        let rows = y.live
        guard !rows.isEmpty, !x.live.isEmpty else { return [] }
        let rowBytes = Double(x.live.count * 3) * max(y.scale, 1)
        let byBudget = Int(Double(bandBudget) / rowBytes) - 4
        let balanced = (rows.count + 4 * workers - 1) / (4 * workers)
        let height = max(1, min(balanced, byBudget))
        return stride(from: rows.lowerBound, to: rows.upperBound, by: height).map { $0..<min($0 + height, rows.upperBound) }
    }

    /// Resizes `source` (its first 3 channels) into `out`, planar [3][size][size] with rows and
    /// columns indexed by `y` and `x`'s kept outputs; outputs that read no source pixel are 0.
    static func resample(_ source: PixelView, x: ResampleAxis, y: ResampleAxis, into out: UnsafeMutablePointer<Float>, size s: Int) {
        let bands = bands(x: x, y: y)
        let scaleTable = (0..<256).map { Float($0) / 255 }
        let output = UnsafeSendable(out)
        DispatchQueue.concurrentPerform(iterations: bands.count) { b in
            resampleBand(source, x: x, y: y, rows: bands[b], into: output.pointer, size: s, table: scaleTable)
        }
    }

    private static func resampleBand(_ src: PixelView, x: ResampleAxis, y: ResampleAxis, rows band: Range<Int>,
                                     into out: UnsafeMutablePointer<Float>, size s: Int, table: [Float]) {
        let span = y.sourceSpan(band)
        var rows = [UInt8](repeating: 0, count: span.count * x.live.count * 3)
        rows.withUnsafeMutableBufferPointer { tmp in
            horizontal(src, x: x, rows: span, into: tmp.baseAddress!)
            vertical(UnsafePointer(tmp.baseAddress!), firstRow: span.lowerBound, x: x, y: y, rows: band, into: out, size: s, table: table)
        }
    }

    static let half = Int32(1) << Int32(ResampleAxis.precisionBits - 1)

    /// Source rows `rows` resized along x (live columns only), as interleaved RGB bytes.
    private static func horizontal(_ src: PixelView, x: ResampleAxis, rows: Range<Int>, into tmp: UnsafeMutablePointer<UInt8>) {
        let cols = x.live, width = cols.count * 3
        x.weights.withUnsafeBufferPointer { kx in
            for r in rows {
                let line = src.base + r * src.width * src.channels
                let dst = tmp + (r - rows.lowerBound) * width
                for (j, c) in cols.enumerated() {
                    let n = x.counts[c], k = kx.baseAddress! + x.offsets[c]
                    var s0 = half, s1 = half, s2 = half
                    var p = line + x.starts[c] * src.channels
                    for i in 0..<n {
                        let w = k[i]
                        s0 &+= Int32(p[0]) &* w
                        s1 &+= Int32(p[1]) &* w
                        s2 &+= Int32(p[2]) &* w
                        p += src.channels
                    }
                    dst[3 * j] = clip8(s0)
                    dst[3 * j + 1] = clip8(s1)
                    dst[3 * j + 2] = clip8(s2)
                }
            }
        }
    }

    /// Output rows `rows` from the horizontally resized rows (the first is source row
    /// `firstRow`), written planar as v/255.
    private static func vertical(_ tmp: UnsafePointer<UInt8>, firstRow: Int, x: ResampleAxis, y: ResampleAxis, rows: Range<Int>,
                                 into out: UnsafeMutablePointer<Float>, size s: Int, table: [Float]) {
        let cols = x.live, width = cols.count * 3
        var acc = [Int32](repeating: 0, count: width)
        acc.withUnsafeMutableBufferPointer { acc in
            y.weights.withUnsafeBufferPointer { ky in
                for yy in rows {
                    for j in 0..<width { acc[j] = half }
                    let start = y.starts[yy], k = ky.baseAddress! + y.offsets[yy]
                    for i in 0..<y.counts[yy] {
                        let w = k[i]
                        let line = tmp + (start + i - firstRow) * width
                        for j in 0..<width { acc[j] &+= Int32(line[j]) &* w }
                    }
                    for ch in 0..<3 {
                        let row = out + (ch * s + yy) * s + cols.lowerBound
                        for j in 0..<cols.count { row[j] = table[Int(clip8(acc[3 * j + ch]))] }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func clip8(_ v: Int32) -> UInt8 {
        let shifted = v >> Int32(ResampleAxis.precisionBits)
        return shifted < 0 ? 0 : shifted > 255 ? 255 : UInt8(shifted)
    }
}

/// A pointer handed to concurrent workers that write disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
