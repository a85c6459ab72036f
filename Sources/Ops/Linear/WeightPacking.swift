/// Conversion of fp32 rows to a `WeightFormat`'s stored bytes and back: the quantizers run at
/// load time, and `unpack` is the CPU reference of what a kernel reads.
public enum WeightPacking {
    /// Packs one row of `cols` fp32 values into `format.rowBytes(cols:)` bytes at `out`.
    public static func pack(row: UnsafeBufferPointer<Float>, format: WeightFormat, into out: UnsafeMutableRawPointer) {
        let cols = row.count
        let rowBytes = format.rowBytes(cols: cols)
        switch format {
        case .f32:
            out.copyMemory(from: row.baseAddress!, byteCount: cols * 4)
        case .f16:
            for i in 0..<cols { out.storeBytes(of: Float16(row[i]).bitPattern, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<cols { out.storeBytes(of: bf16Bits(row[i]), toByteOffset: 2 * i, as: UInt16.self) }
        case .q8:
            let scales = format.scaleOffset(cols: cols)
            for b in 0..<cols / 32 {
                var amax: Float = 0
                for i in b * 32..<(b + 1) * 32 { amax = max(amax, abs(row[i])) }
                // The stored (fp16) scale is the one the codes are rounded against; rounded up
                // where fp16 rounded it down, so no code clips and every error is <= d / 2
                // (this matters for small blocks, whose scale is an fp16 subnormal).
                var dh = Float16(amax / 127)
                if Float(dh) * 127 < amax { dh = dh.nextUp }
                let d = Float(dh)
                let inv: Float = d > 0 ? 1 / d : 0
                for i in b * 32..<(b + 1) * 32 {
                    let q = Int8(max(-127, min(127, (row[i] * inv).rounded())))
                    out.storeBytes(of: q, toByteOffset: i, as: Int8.self)
                }
                out.storeBytes(of: dh.bitPattern, toByteOffset: scales + 2 * b, as: UInt16.self)
            }
            out.advanced(by: scales + 2 * (cols / 32)).initializeMemory(as: UInt8.self, repeating: 0, count: rowBytes - scales - 2 * (cols / 32))
        case .q4:
            let scales = format.scaleOffset(cols: cols)
            for g in 0..<cols / 64 {
                var lo = Float.infinity, hi = -Float.infinity
                for i in g * 64..<(g + 1) * 64 { lo = min(lo, row[i]); hi = max(hi, row[i]) }
                // m rounded down and s up to fp16, so [lo, hi] lies in [m, m + 15 s]: no code
                // clips and every error is <= s / 2; a constant fp16 group is exact (s = 0).
                var mh = Float16(lo)
                if Float(mh) > lo { mh = mh.nextDown }
                let m = Float(mh)
                var sh = Float16(max(0, hi - m) / 15)
                if Float(sh) * 15 < hi - m { sh = sh.nextUp }
                let s = Float(sh)
                let inv: Float = s > 0 ? 1 / s : 0
                for w in 0..<8 {
                    var word: UInt32 = 0
                    for j in 0..<8 {
                        let q = UInt32(max(0, min(15, ((row[g * 64 + w * 8 + j] - m) * inv).rounded())))
                        word |= q << (4 * UInt32(j))
                    }
                    out.storeBytes(of: word, toByteOffset: g * 32 + w * 4, as: UInt32.self)
                }
                out.storeBytes(of: sh.bitPattern, toByteOffset: scales + 4 * g, as: UInt16.self)
                out.storeBytes(of: mh.bitPattern, toByteOffset: scales + 4 * g + 2, as: UInt16.self)
            }
            out.advanced(by: scales + 4 * (cols / 64)).initializeMemory(as: UInt8.self, repeating: 0, count: rowBytes - scales - 4 * (cols / 64))
        }
    }

    /// The fp32 values a kernel reads from one stored row (the reference dequantizer).
    public static func unpack(row: UnsafeRawPointer, cols: Int, format: WeightFormat, into out: UnsafeMutableBufferPointer<Float>) {
        switch format {
        case .f32:
            for i in 0..<cols { out[i] = row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<cols { out[i] = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16:
            for i in 0..<cols { out[i] = Float(bitPattern: UInt32(row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        case .q8:
            let scales = format.scaleOffset(cols: cols)
            for i in 0..<cols {
                let d = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: scales + 2 * (i / 32), as: UInt16.self)))
                out[i] = d * Float(row.load(fromByteOffset: i, as: Int8.self))
            }
        case .q4:
            let scales = format.scaleOffset(cols: cols)
            for i in 0..<cols {
                let g = i / 64
                let s = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: scales + 4 * g, as: UInt16.self)))
                let m = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: scales + 4 * g + 2, as: UInt16.self)))
                let word = row.loadUnaligned(fromByteOffset: (i / 8) * 4, as: UInt32.self)
                out[i] = s * Float((word >> (4 * UInt32(i % 8))) & 15) + m
            }
        }
    }

    /// `rows` values [rows][cols] stored in `format` and read back: what the device computes with.
    public static func roundTrip(_ values: [Float], rows: Int, cols: Int, format: WeightFormat) -> [Float] {
        let rowBytes = format.rowBytes(cols: cols)
        var bytes = [UInt8](repeating: 0, count: rowBytes)
        var out = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                bytes.withUnsafeMutableBytes { raw in
                    for r in 0..<rows {
                        pack(row: UnsafeBufferPointer(rebasing: src[r * cols..<(r + 1) * cols]), format: format, into: raw.baseAddress!)
                        unpack(row: raw.baseAddress!, cols: cols, format: format, into: UnsafeMutableBufferPointer(rebasing: dst[r * cols..<(r + 1) * cols]))
                    }
                }
            }
        }
        return out
    }

    /// Round to nearest even, as torch's float -> bfloat16 (NaN stays NaN).
    @inline(__always)
    public static func bf16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}
