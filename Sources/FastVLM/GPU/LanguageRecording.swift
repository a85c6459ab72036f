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
