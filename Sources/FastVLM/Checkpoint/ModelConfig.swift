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
            guard let tower = json["mm_vision_tower"] as? String, let size = tower.split(separator: "_").last.flatMap({ Int($0) }),
                  ConfigLimits.imageSize.contains(size) else {
                throw CheckpointError("config.json: mm_vision_tower must end in the input size (\(ConfigLimits.imageSize.lowerBound)...\(ConfigLimits.imageSize.upperBound)), like mobileclip_l_1024")
            }
            imageSize = size
            imageTokenID = nil
        case .huggingFace:
            guard let t = json["text_config"] as? [String: Any] else { throw CheckpointError("config.json: fast_vlm config without text_config") }
            textJSON = t
            imageTokenID = try ConfigLimits.int(json, "image_token_index", in: ConfigLimits.tokenID)
                ?? ConfigLimits.int(json, "image_token_id", in: ConfigLimits.tokenID)
            imageSize = try Self.hfImageSize(folder: folder, json: json)
        }
        text = try Self.qwen2(textJSON)
        eosTokenIDs = try Self.eosTokenIDs(textJSON["eos_token_id"] ?? json["eos_token_id"])
        tiedEmbeddings = ((textJSON["tie_word_embeddings"] ?? json["tie_word_embeddings"]) as? Bool) ?? false
        guard ConfigLimits.imageSize.contains(imageSize), imageSize % 64 == 0 else {
            throw CheckpointError("config: image size \(imageSize) is not a multiple of 64 in \(ConfigLimits.imageSize.lowerBound)...\(ConfigLimits.imageSize.upperBound)")
        }
    }

    /// eos_token_id: absent, null, one id or a list of ids.
    static func eosTokenIDs(_ value: Any?) throws -> [Int] {
        guard let value, !(value is NSNull) else { return [] }
        let items = (value as? [Any]) ?? [value]
        return try items.map { try ConfigLimits.integer($0, "eos_token_id", in: ConfigLimits.tokenID) }
    }

    static func hfImageSize(folder: URL, json: [String: Any]) throws -> Int {
        let url = folder.appending(path: "preprocessor_config.json")
        if let data = try? Data(contentsOf: url), let pre = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            let file = "preprocessor_config.json"
            if let crop = pre["crop_size"] as? [String: Any], let h = try ConfigLimits.int(crop, "height", in: ConfigLimits.imageSize, file: file) { return h }
            if let crop = pre["crop_size"] as? NSNumber { return try ConfigLimits.integer(crop, "crop_size", in: ConfigLimits.imageSize, file: file) }
        }
        let maxSide = ConfigLimits.imageSize.upperBound / 64
        if let n = try ConfigLimits.int(json, "image_seq_length", in: 1...maxSide * maxSide) {
            let side = Int(Double(n).squareRoot().rounded())
            if side * side == n { return side * 64 }
        }
        throw CheckpointError("preprocessor_config.json: no crop_size, and config.json has no usable image_seq_length")
    }

    static func qwen2(_ j: [String: Any]) throws -> Qwen2Config {
        typealias L = ConfigLimits
        let hidden = try L.required(j, "hidden_size", in: L.hiddenSize)
        let heads = try L.required(j, "num_attention_heads", in: L.heads)
        let kvHeads = try L.int(j, "num_key_value_heads", in: L.heads) ?? heads
        guard heads % kvHeads == 0 else { throw CheckpointError("config.json: num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)") }
        let headDim = try L.int(j, "head_dim", in: L.headDim) ?? hidden / heads
        guard L.headDim.contains(headDim) else { throw CheckpointError("config.json: hidden_size \(hidden) / num_attention_heads \(heads) gives head_dim \(headDim)") }
        let layers = try L.required(j, "num_hidden_layers", in: L.layers)
        let intermediate = try L.required(j, "intermediate_size", in: L.intermediateSize)
        let vocab = try L.required(j, "vocab_size", in: L.vocabSize)
        let maxPositions = try L.int(j, "max_position_embeddings", in: L.maxPositions) ?? 32768
        // Derived sizes the loader allocates from, each checked once here.
        _ = try L.product([vocab, hidden], "the embedding")
        _ = try L.product([intermediate, hidden], "an MLP weight")
        _ = try L.product([heads, headDim, hidden], "the attention projection")
        _ = try L.product([maxPositions, kvHeads, headDim], "one layer's KV cache at full context")
        let ropeParameters = (j["rope_parameters"] as? [String: Any]) ?? [:]
        let rope = try L.positive(j, "rope_theta") ?? L.positive(ropeParameters, "rope_theta") ?? 10000
        return Qwen2Config(hiddenSize: hidden, layers: layers, heads: heads, kvHeads: kvHeads, headDim: headDim,
                           intermediateSize: intermediate, vocabSize: vocab, realVocabSize: vocab,
                           ropeTheta: rope, rmsNormEps: try L.positive(j, "rms_norm_eps") ?? 1e-6, maxPositions: maxPositions)
    }
}
