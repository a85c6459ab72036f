import Ops

/// What `--weights` asks for: one format, or the most accurate one that fits the device.
public enum WeightChoice: Sendable, Equatable, CustomStringConvertible {
    case auto
    case format(WeightFormat)

    public init?(_ text: String) {
        if text == "auto" { self = .auto; return }
        guard let f = WeightFormat(rawValue: text) else { return nil }
        self = .format(f)
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .format(let f): return f.rawValue
        }
    }

    public static let names = ["auto"] + WeightFormat.allCases.map(\.rawValue)
}

/// The formats one part of the model is stored in on the device: the one place that decides
/// which format each kind of weight gets.
public struct WeightFormats: Sendable, Equatable, CustomStringConvertible {
    /// Linear layers, 1x1 convolutions, the embedding and the LM head.
    public var linear: WeightFormat
    /// A 16-bit format for matrices `linear` cannot hold: a quantized format needs rows of whole
    /// blocks (and the vision tower is never quantized).
    public var fallback: WeightFormat
    /// The small kernels that have only fp16 and fp32 variants (squeeze-excite, dense conv):
    /// fp16 when the model is fp16, else fp32 (exact for bf16 values).
    public var small: WeightFormat

    /// The format of a [rows][cols] matrix.
    public func matrix(cols: Int) -> WeightFormat { linear.supports(cols: cols) ? linear : fallback }

    public var description: String { linear.rawValue }

    /// The language model's formats for `format`; `sixteenBit` is the 16-bit format that keeps
    /// the checkpoint best (bf16 for a bf16 checkpoint, else fp16).
    public static func language(_ format: WeightFormat, sixteenBit: WeightFormat) -> WeightFormats {
        WeightFormats(linear: format, fallback: format.isQuantized ? sixteenBit : format, small: format == .f16 ? .f16 : .f32)
    }

    /// The vision tower and projector: the chosen format unless it is quantized, then 16-bit.
    public static func vision(_ format: WeightFormat, sixteenBit: WeightFormat) -> WeightFormats {
        let linear = format.isQuantized ? sixteenBit : format
        return WeightFormats(linear: linear, fallback: linear, small: linear == .f16 ? .f16 : .f32)
    }

    /// Candidates for `auto`, most accurate first: the checkpoint's own 16-bit values exactly,
    /// else fp32 and fp16 (more mantissa than bf16), then 8-bit and 4-bit.
    public static func candidates(stored: WeightFormat?) -> [WeightFormat] {
        switch stored {
        case .bf16: return [.bf16, .q8, .q4]
        case .f16: return [.f16, .q8, .q4]
        default: return [.f32, .f16, .q8, .q4]
        }
    }
}
