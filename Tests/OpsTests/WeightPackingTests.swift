import XCTest
@testable import Ops

/// The CPU packers and the reference dequantizer (what every kernel is tested against).
final class WeightPackingTests: XCTestCase {
    func packed(_ values: [Float], format: WeightFormat) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xAB, count: format.rowBytes(cols: values.count))
        values.withUnsafeBufferPointer { row in
            bytes.withUnsafeMutableBytes { WeightPacking.pack(row: row, format: format, into: $0.baseAddress!) }
        }
        return bytes
    }

    func unpacked(_ bytes: [UInt8], cols: Int, format: WeightFormat) -> [Float] {
        var out = [Float](repeating: .nan, count: cols)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { WeightPacking.unpack(row: raw.baseAddress!, cols: cols, format: format, into: $0) }
        }
        return out
    }

    /// Round to nearest even on known bit patterns: ties, carries into the exponent, overflow
    /// to infinity, infinities, NaNs (quiet and signalling stay NaN), signed zero, denormals.
    func testBF16RoundToNearestEven() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_0000, 0x3F80),  // 1.0
            (0x3F80_8000, 0x3F80),  // tie, even below: down
            (0x3F81_8000, 0x3F82),  // tie, odd below: up
            (0x3F80_8001, 0x3F81),  // above the tie: up
            (0x3F80_7FFF, 0x3F80),  // below the tie: down
            (0x3FFF_FFFF, 0x4000),  // carry into the exponent
            (0x7F7F_FFFF, 0x7F80),  // the largest float rounds to +inf
            (0x7F80_0000, 0x7F80),  // +inf
            (0xFF80_0000, 0xFF80),  // -inf
            (0x8000_0000, 0x8000),  // -0
            (0x0000_0001, 0x0000),  // smallest denormal: down to 0
            (0x0000_8000, 0x0000),  // denormal tie, even: down
            (0x0001_8000, 0x0002),  // denormal tie, odd: up
            (0x000F_FFFF, 0x0010),  // denormal rounding up
            (0x807F_FFFF, 0x8080),  // negative denormal rounding up to the smallest normal
            (0xC049_0FDB, 0xC049),  // -pi
        ]
        for (bits, expected) in cases {
            XCTAssertEqual(WeightPacking.bf16Bits(Float(bitPattern: bits)), expected, String(format: "0x%08X", bits))
        }
        for nan in [0x7FC0_0000, 0x7F80_0001, 0xFFC0_0001, 0x7FFF_FFFF] as [UInt32] {
            let b = WeightPacking.bf16Bits(Float(bitPattern: nan))
            XCTAssertTrue(Float(bitPattern: UInt32(b) << 16).isNaN, String(format: "0x%08X -> 0x%04X", nan, b))
            XCTAssertEqual(b & 0x8000, UInt16(nan >> 16) & 0x8000, "NaN sign")
        }
        // bf16 values round-trip exactly through pack / unpack.
        let exact: [Float] = [1, -2.5, 3.140625, 1e30, -1e-30, Float(bitPattern: 0x0001_0000), 0].map { Float(bitPattern: UInt32(WeightPacking.bf16Bits($0)) << 16) }
        XCTAssertEqual(WeightPacking.roundTrip(exact, rows: 1, cols: exact.count, format: .bf16), exact)
        XCTAssertEqual(packed([1, -2], format: .bf16), [0x80, 0x3F, 0x00, 0xC0])
    }

    /// Every value within half a step of its block's scale; constant and zero blocks exact.
    func testQ8RoundTripErrorBound() {
        let cols = 32 * 6
        var values = randomValues(cols, seed: 1, scale: 0.7)
        for i in 32..<64 { values[i] = 0 }                                  // all-zero block: d = 0
        for i in 64..<96 { values[i] = -0.9921875 }                         // constant block, 127 * 2^-7
        for i in 96..<128 { values[i] *= 1e-4 }                             // tiny block: subnormal fp16 scale
        for i in 128..<160 { values[i] = Float(i % 7) * 3 - 9 }            // integers
        let bytes = packed(values, format: .q8)
        let back = unpacked(bytes, cols: cols, format: .q8)
        for b in 0..<cols / 32 {
            let d = Float(Float16(bitPattern: UInt16(bytes[cols + 2 * b]) | UInt16(bytes[cols + 2 * b + 1]) << 8))
            let amax = values[b * 32..<(b + 1) * 32].map(abs).max()!
            XCTAssertGreaterThanOrEqual(d * 127, amax, "block \(b): the scale must cover the block")
            for i in b * 32..<(b + 1) * 32 {
                XCTAssertLessThanOrEqual(abs(back[i] - values[i]), d / 2 + 1e-6 * amax, "value \(i) block \(b) d \(d)")
            }
        }
        XCTAssertEqual(Array(back[32..<64]), [Float](repeating: 0, count: 32))
        XCTAssertEqual(Array(back[64..<96]), Array(values[64..<96]))
        XCTAssertTrue(bytes[cols + 2 * 6..<bytes.count].allSatisfy { $0 == 0 }, "padding is zero")
    }

    func testQ4RoundTripErrorBound() {
        let cols = 64 * 5
        var values = randomValues(cols, seed: 2, scale: 1.3)
        for i in 64..<128 { values[i] = 0 }                                 // all-zero group
        for i in 128..<192 { values[i] = -0.333251953125 }                  // constant fp16 value
        for i in 192..<256 { values[i] = 100.04 + Float(i % 3) * 0.005 }    // offset group: m must round down
        let bytes = packed(values, format: .q4)
        let back = unpacked(bytes, cols: cols, format: .q4)
        let scales = cols / 2
        for g in 0..<cols / 64 {
            func half(_ o: Int) -> Float { Float(Float16(bitPattern: UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8)) }
            let (s, m) = (half(scales + 4 * g), half(scales + 4 * g + 2))
            let group = values[g * 64..<(g + 1) * 64]
            XCTAssertLessThanOrEqual(m, group.min()!, "group \(g)")
            XCTAssertGreaterThanOrEqual(m + 15 * s + 1e-6 * max(1, abs(group.max()!)), group.max()!, "group \(g)")
            for i in g * 64..<(g + 1) * 64 {
                XCTAssertLessThanOrEqual(abs(back[i] - values[i]), s / 2 + 1e-6 * max(1, abs(values[i])), "value \(i) group \(g) s \(s)")
            }
        }
        XCTAssertEqual(Array(back[64..<192]), Array(values[64..<192]))
    }

    /// The layouts of WeightFormat's doc comment, packed by hand.
    func testHandPackedLayouts() {
        // q8, 32 values: codes are the values themselves with d = 1 (amax 127).
        var q8: [Float] = (0..<32).map { (i: Int) -> Float in Float(i == 0 ? -127 : i * 8 - 126) }   // -127, -118, ..., 114
        q8[31] = 127
        let p8 = packed(q8, format: .q8)
        XCTAssertEqual(WeightFormat.q8.rowBytes(cols: 32), 48)
        XCTAssertEqual(p8.count, 48)
        XCTAssertEqual(p8[0..<32].map { Int8(bitPattern: $0) }, q8.map { Int8($0) })
        XCTAssertEqual(Array(p8[32..<34]), [0x00, 0x3C])                        // d = 1.0 in fp16
        XCTAssertEqual(Array(p8[34..<48]), [UInt8](repeating: 0, count: 14))   // padding
        XCTAssertEqual(unpacked(p8, cols: 32, format: .q8), q8)

        // q4, 64 values i % 16 (so s = 1, m = 0): word w holds values 8w ..< 8w + 8, value j
        // of the word in bits 4j ..< 4j + 4, so each little-endian byte is (odd << 4) | even.
        let q4 = (0..<64).map { Float($0 % 16) }
        let p4 = packed(q4, format: .q4)
        XCTAssertEqual(WeightFormat.q4.rowBytes(cols: 64), 48)
        var codes = [UInt8]()
        for i in stride(from: 0, to: 64, by: 2) { codes.append(UInt8(i % 16) | UInt8((i + 1) % 16) << 4) }
        XCTAssertEqual(Array(p4[0..<32]), codes)
        XCTAssertEqual(Array(p4[0..<4]), [0x10, 0x32, 0x54, 0x76])
        XCTAssertEqual(Array(p4[32..<36]), [0x00, 0x3C, 0x00, 0x00])            // s = 1.0, m = 0.0
        XCTAssertEqual(Array(p4[36..<48]), [UInt8](repeating: 0, count: 12))
        XCTAssertEqual(unpacked(p4, cols: 64, format: .q4), q4)

        // Two q8 blocks: scales follow all the codes, in block order.
        let two = (0..<64).map { $0 < 32 ? Float(0.5) : Float(-2) }
        let p2 = packed(two, format: .q8)
        XCTAssertEqual(p2.count, WeightFormat.q8.rowBytes(cols: 64))
        XCTAssertEqual(p2.count, 80)
        XCTAssertEqual(Float(Float16(bitPattern: UInt16(p2[64]) | UInt16(p2[65]) << 8)) * 127, 0.5, accuracy: 0.5 / 1000)
        XCTAssertEqual(Float(Float16(bitPattern: UInt16(p2[66]) | UInt16(p2[67]) << 8)) * -127, -2, accuracy: 2.0 / 1000)
        XCTAssertEqual(Int8(bitPattern: p2[0]), 127)
        XCTAssertEqual(Int8(bitPattern: p2[32]), -127)
    }

    func testRowBytesAndBits() {
        XCTAssertEqual(WeightFormat.q8.rowBytes(cols: 896), 896 + 56 + 8)     // padded to 16 bytes
        XCTAssertEqual(WeightFormat.q4.rowBytes(cols: 896), 448 + 56 + 8)
        XCTAssertEqual(WeightFormat.q4.rowBytes(cols: 4864), 2432 + 304)
        for f in [WeightFormat.q8, .q4] { XCTAssertEqual(f.rowBytes(cols: 128 * 7) % 16, 0) }
        XCTAssertEqual(WeightFormat.q8.bitsPerWeight(cols: 4096), 8.5)
        XCTAssertEqual(WeightFormat.q4.bitsPerWeight(cols: 4096), 4.5)
        XCTAssertFalse(WeightFormat.q4.supports(cols: 96))
        XCTAssertTrue(WeightFormat.q8.supports(cols: 96))
    }
}
