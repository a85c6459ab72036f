/// How a weight matrix is stored on the device. Arithmetic is fp32 whatever the format.
///
/// Every format stores a [rows][cols] matrix row by row, `rowBytes(cols:)` bytes a row, so a
/// row range is a plain byte range (slicing for maxStorageBufferRange, q/k/v parts):
/// - `f32`, `f16`, `bf16`: the values, 4 or 2 bytes each (bf16 keeps a bf16 checkpoint exact).
/// - `q8`: per block of 32 values, signed 8-bit codes `q` with one fp16 scale `d`, w = d * q
///   (llama.cpp's Q8_0 values, 8.5 bits a weight). A row is [cols int8 codes][cols/32 fp16
///   scales], padded to 16 bytes.
/// - `q4`: per group of 64 values, unsigned 4-bit codes with an fp16 scale `s` and an fp16
///   minimum `m`, w = s * q + m (MLX's affine 4-bit, 4.5 bits a weight). A row is
///   [cols/2 bytes of codes][cols/64 (s, m) fp16 pairs], padded to 16 bytes; code i of a
///   32-bit word sits in bits 4i..4i+3 (eight consecutive values a word).
public enum WeightFormat: String, Sendable, CaseIterable {
    case f32, f16, bf16, q8, q4

    /// Values sharing one scale along a row.
    public var blockSize: Int {
        switch self {
        case .q8: return 32
        case .q4: return 64
        case .f32, .f16, .bf16: return 1
        }
    }

    public var isQuantized: Bool { blockSize > 1 }

    /// Whether a row of `cols` values can be stored in this format.
    public func supports(cols: Int) -> Bool {
        switch self {
        case .f32, .f16, .bf16: return cols > 0
        case .q8, .q4: return cols > 0 && cols % blockSize == 0
        }
    }

    /// Bytes of one stored row of `cols` values.
    public func rowBytes(cols: Int) -> Int {
        switch self {
        case .f32: return cols * 4
        case .f16, .bf16: return cols * 2
        case .q8: return Self.pad16(cols + 2 * (cols / 32))
        case .q4: return Self.pad16(cols / 2 + 4 * (cols / 64))
        }
    }

    /// Byte offset, inside a row, where the scales start (quantized formats).
    public func scaleOffset(cols: Int) -> Int {
        switch self {
        case .q8: return cols
        case .q4: return cols / 2
        case .f32, .f16, .bf16: return rowBytes(cols: cols)
        }
    }

    /// Stored bits per weight for rows of `cols` values (padding included).
    public func bitsPerWeight(cols: Int) -> Double { Double(rowBytes(cols: cols) * 8) / Double(cols) }

    static func pad16(_ n: Int) -> Int { (n + 15) / 16 * 16 }
}
