/// Tensor names. The canonical scheme is the transformers-native (`fast_vlm`) one; Apple's
/// `llava_qwen2` names are translated on load (spec section 2.3).
enum CheckpointNames {
    static let vision = "model.vision_tower.timm_model."
    static let projector = "model.multi_modal_projector."
    static let language = "model.language_model."

    /// Apple `network.N` -> timm (stage, part).
    static let appleNetwork: [Int: (stage: Int, part: String)] = [
        0: (0, "blocks"), 1: (1, "downsample"), 2: (1, "blocks"), 3: (2, "downsample"), 4: (2, "blocks"),
        5: (3, "downsample"), 6: (3, "pos_emb"), 7: (3, "blocks"), 8: (4, "downsample"), 9: (4, "pos_emb"), 10: (4, "blocks"),
    ]

    /// The canonical name of an Apple tensor, or nil for tensors FastVLM never uses.
    static func canonical(apple name: String) -> String? {
        let appleVision = "model.vision_tower.vision_tower.model."
        if name.hasPrefix(appleVision) {
            var rest = String(name.dropFirst(appleVision.count))
            if rest.hasPrefix("head.") { return nil }   // MobileCLIP's unused CLIP projection
            if rest.hasPrefix("patch_embed.") {
                rest = "stem." + rest.dropFirst("patch_embed.".count)
            } else if rest.hasPrefix("conv_exp.") {
                rest = "final_conv." + rest.dropFirst("conv_exp.".count)
                rest = rest.replacingOccurrences(of: "se.reduce.", with: "se.fc1.").replacingOccurrences(of: "se.expand.", with: "se.fc2.")
            } else if rest.hasPrefix("network.") {
                let parts = rest.split(separator: ".", maxSplits: 2).map(String.init)
                guard parts.count == 3, let index = Int(parts[1]), let target = appleNetwork[index] else { return nil }
                var tail = parts[2]
                switch target.part {
                case "downsample":
                    tail = tail.replacingOccurrences(of: "proj.0.lkb_reparam.", with: "proj.0.reparam_conv.")
                case "blocks":
                    tail = tail.replacingOccurrences(of: ".convffn.", with: ".mlp.")
                    for scale in ["layer_scale_1", "layer_scale_2", "layer_scale"] where tail.hasSuffix("." + scale) {
                        tail += ".gamma"
                        break
                    }
                default:
                    break
                }
                rest = "stages.\(target.stage).\(target.part).\(tail)"
            }
            return vision + rest
        }
        if name.hasPrefix("model.mm_projector.0.") { return projector + "linear_1." + name.dropFirst("model.mm_projector.0.".count) }
        if name.hasPrefix("model.mm_projector.2.") { return projector + "linear_2." + name.dropFirst("model.mm_projector.2.".count) }
        if name.hasPrefix("model.") { return language + name.dropFirst("model.".count) }
        return name
    }
}
