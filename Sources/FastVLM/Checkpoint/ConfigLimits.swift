import Foundation

/// Upper bounds for the sizes config.json may declare, checked before anything is allocated
/// from them. Each is well above every released Qwen2 / FastVLM (Qwen2-72B: hidden 8192,
/// 80 layers, 64 heads, intermediate 29568, vocabulary 152064, 131072 positions) and far below
/// what would overflow a product of two of them.
enum ConfigLimits {
    static let hiddenSize = 1...65_536
    static let layers = 1...1_024
    static let heads = 1...1_024
    static let headDim = 1...4_096
    static let intermediateSize = 1...1_048_576
    static let vocabSize = 1...4_194_304
    static let maxPositions = 1...16_777_216
    static let imageSize = 64...8_192
    static let tokenID = 0...Int(Int32.max)
    /// Elements of the largest derived tensor (the embedding or one layer's MLP weight).
    static let tensorElements = 1 << 36

    /// `json[key]` as an integer inside `range`; nil when absent. A non-number, a fraction or a
    /// value out of range is an error.
    static func int(_ json: [String: Any], _ key: String, in range: ClosedRange<Int>, file: String = "config.json") throws -> Int? {
        try json[key].map { try integer($0, key, in: range, file: file) }
    }

    static func integer(_ raw: Any, _ key: String, in range: ClosedRange<Int>, file: String = "config.json") throws -> Int {
        let value = (raw as? NSNumber)?.doubleValue ?? .nan
        guard value.isFinite, value == value.rounded(), value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            throw CheckpointError("\(file): \(key) is \(raw), expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(value)
    }

    /// Like `int`, but the key must be present.
    static func required(_ json: [String: Any], _ key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = try int(json, key, in: range) else { throw CheckpointError("config.json: missing \(key)") }
        return value
    }

    /// `json[key]` as a finite, positive float; nil when absent.
    static func positive(_ json: [String: Any], _ key: String) throws -> Float? {
        guard let raw = json[key] else { return nil }
        guard let number = raw as? NSNumber, number.doubleValue.isFinite, number.doubleValue > 0,
              Float(number.doubleValue).isFinite, Float(number.doubleValue) > 0 else {
            throw CheckpointError("config.json: \(key) is \(raw), expected a finite positive number")
        }
        return Float(number.doubleValue)
    }

    /// a * b * ..., or an error naming `what` when it overflows or exceeds `tensorElements`.
    static func product(_ factors: [Int], _ what: String) throws -> Int {
        var result = 1
        for f in factors {
            let (p, overflow) = result.multipliedReportingOverflow(by: f)
            guard !overflow, p <= tensorElements else {
                throw CheckpointError("config.json: \(what) (\(factors.map(String.init).joined(separator: " x "))) exceeds \(tensorElements) elements")
            }
            result = p
        }
        return result
    }
}
