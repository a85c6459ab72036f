import Dispatch
import Ops
import VulkanCore

/// One recorded prefill or decode step: its command sequence and the arena its activations
/// live in (the recording stays valid for replay while both are alive).
final class LanguageRecording {
    let seq: CommandSequence
    let arena: TensorArena

    init(device: Device, label: String, profiling: Bool, arenaChunk: Int) {
        seq = CommandSequence(device: device, label: label, profiling: profiling)
        arena = TensorArena(device: device, chunkSize: arenaChunk)
    }

    /// Runs it once; returns the counts of this run (submits of this run only) and its wall time.
    func run() throws -> (stats: SequenceStats, seconds: Double) {
        let submitsBefore = seq.stats.submits
        let start = DispatchTime.now().uptimeNanoseconds
        try seq.run()
        var stats = seq.stats
        stats.submits -= submitsBefore
        return (stats, seconds(since: start))
    }
}

/// Where a prefill's image rows go: `count` rows from image row `row` to positions
/// `position` ..< `position + count`.
struct ImageRun: Equatable {
    var position: Int
    var row: Int
    var count: Int
}

/// What a prefill recording depends on besides the device state: its length, where the image
/// rows go and which buffer they come from, and how it samples.
struct PrefillKey: Equatable {
    let tokens: Int
    let runs: [ImageRun]
    let image: ImageSource?
    let greedy: Bool
    /// The prompt's last chunk: only it computes logits and samples.
    let last: Bool

    struct ImageSource: Equatable {
        let buffer: ObjectIdentifier
        let offset: Int
        let size: Int
        init(_ view: BufferView) {
            buffer = ObjectIdentifier(view.buffer)
            offset = view.offset
            size = view.size
        }
    }
}

extension Qwen2Weights {
    /// The same structure with no values: enough for `Qwen2.forward` to walk the layers once
    /// every weight is on the device, without keeping the host arrays alive.
    func withoutValues() -> Qwen2Weights {
        func empty(_ l: LinearWeights) -> LinearWeights {
            LinearWeights(weight: [], bias: l.bias.map { _ in [] }, outFeatures: l.outFeatures, inFeatures: l.inFeatures)
        }
        let layers = self.layers.map {
            Layer(inputNorm: [], q: empty($0.q), k: empty($0.k), v: empty($0.v), o: empty($0.o), postAttentionNorm: [],
                  gate: empty($0.gate), up: empty($0.up), down: empty($0.down))
        }
        return Qwen2Weights(config: config, embedTokens: [], layers: layers, norm: [], lmHead: [])
    }
}
