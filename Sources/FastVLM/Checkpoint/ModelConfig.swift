import Foundation

/// The two checkpoint families FastVLM ships in.
public enum CheckpointLayout: String, Sendable {
    case apple = "llava_qwen2"
    case huggingFace = "fast_vlm"
}

/// What config.json (and preprocessor_config.json) say about the model.
public struct ModelConfig: Sendable {
    public var layout: CheckpointLayout
    public var text: Qwen2Config
    public var imageSize: Int
    public var imageTokenID: Int?       // HF: the id repeated for image positions
    public var eosTokenIDs: [Int]
    /// `tie_word_embeddings`: the LM head is the embedding (Apple stores lm_head anyway).
    public var tiedEmbeddings: Bool

    public init(folder: URL) throws {
        let url = folder.appending(path: "config.json")
        guard let data = try? Data(contentsOf: url) else { throw CheckpointError("\(url.path): cannot read the model config") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError("config.json: not a JSON object")
        }
        guard let type = json["model_type"] as? String else { throw CheckpointError("config.json: no model_type field") }
        guard let layout = CheckpointLayout(rawValue: type) else {
            throw CheckpointError("config.json: unknown model_type '\(type)' (supported: llava_qwen2 (Apple FastVLM), fast_vlm (transformers))")
        }
        self.layout = layout
        let textJSON: [String: Any]
        switch layout {
        case .apple:
            textJSON = json
            guard let tower = json["mm_vision_tower"] as? String, let size = tower.split(separator: "_").last.flatMap({ Int($0) }) else {
                throw CheckpointError("config.json: mm_vision_tower must end in the input size, like mobileclip_l_1024")
            }
            imageSize = size
            imageTokenID = nil
        case .huggingFace:
            guard let t = json["text_config"] as? [String: Any] else { throw CheckpointError("config.json: fast_vlm config without text_config") }
            textJSON = t
            imageTokenID = (json["image_token_index"] as? NSNumber)?.intValue ?? (json["image_token_id"] as? NSNumber)?.intValue
            imageSize = try Self.hfImageSize(folder: folder, json: json)
        }
        text = try Self.qwen2(textJSON)
        var eos = [Int]()
        if let e = (textJSON["eos_token_id"] ?? json["eos_token_id"]) as? NSNumber { eos.append(e.intValue) }
        if let list = (textJSON["eos_token_id"] ?? json["eos_token_id"]) as? [NSNumber] { eos += list.map(\.intValue) }
        eosTokenIDs = eos
        tiedEmbeddings = ((textJSON["tie_word_embeddings"] ?? json["tie_word_embeddings"]) as? Bool) ?? false
        guard imageSize > 0, imageSize % 64 == 0 else { throw CheckpointError("config: image size \(imageSize) is not a positive multiple of 64") }
    }

    static func hfImageSize(folder: URL, json: [String: Any]) throws -> Int {
        let url = folder.appending(path: "preprocessor_config.json")
        if let data = try? Data(contentsOf: url), let pre = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            if let crop = pre["crop_size"] as? [String: Any], let h = (crop["height"] as? NSNumber)?.intValue { return h }
            if let crop = (pre["crop_size"] as? NSNumber)?.intValue { return crop }
        }
        if let n = (json["image_seq_length"] as? NSNumber)?.intValue {
            let side = Int(Double(n).squareRoot().rounded())
            if side * side == n { return side * 64 }
        }
        throw CheckpointError("preprocessor_config.json: no crop_size, and config.json has no usable image_seq_length")
    }

    static func qwen2(_ j: [String: Any]) throws -> Qwen2Config {
        func int(_ key: String) throws -> Int {
            guard let v = (j[key] as? NSNumber)?.intValue, v > 0 else { throw CheckpointError("config.json: missing or invalid \(key)") }
            return v
        }
        let hidden = try int("hidden_size"), heads = try int("num_attention_heads")
        let kvHeads = (j["num_key_value_heads"] as? NSNumber)?.intValue ?? heads
        let headDim = (j["head_dim"] as? NSNumber)?.intValue ?? hidden / heads
        guard heads % max(1, kvHeads) == 0 else { throw CheckpointError("config.json: num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)") }
        let rope = (j["rope_theta"] as? NSNumber)?.floatValue
            ?? ((j["rope_parameters"] as? [String: Any])?["rope_theta"] as? NSNumber)?.floatValue ?? 10000
        let vocab = try int("vocab_size")
        return Qwen2Config(hiddenSize: hidden, layers: try int("num_hidden_layers"), heads: heads, kvHeads: kvHeads, headDim: headDim,
                           intermediateSize: try int("intermediate_size"), vocabSize: vocab, realVocabSize: vocab,
                           ropeTheta: rope, rmsNormEps: (j["rms_norm_eps"] as? NSNumber)?.floatValue ?? 1e-6,
                           maxPositions: (j["max_position_embeddings"] as? NSNumber)?.intValue ?? 32768)
    }
}
