import Ops
import VulkanCore

/// What changes between runs of a recorded prefill or decode step, in one small device
/// buffer the host rewrites with one write before each run: the position of the first new
/// token (RoPE, the cache append and attention read it), the token id a decode step embeds,
/// and the sampling parameters with this step's uniform draw. The chosen id comes back
/// through a 4-byte result buffer, the only readback per token. Both live in host-visible
/// memory, so a decode step costs exactly one submit on every device.
final class StepBuffers {
    let device: Device
    private let inputs: DeviceBuffer
    private let result: DeviceBuffer
    private let stride: Int

    init(device: Device) throws {
        self.device = device
        stride = max(16, device.capabilities.minStorageBufferOffsetAlignment)
        // Host-visible, so the write before a run and the readback after it are plain copies
        // (no submit of their own) on GPUs whose device memory the host cannot map.
        inputs = try device.allocateHostVisible(bytes: 2 * stride + SampleOp.parameterBytes)
        result = try device.allocateHostVisible(bytes: 4)
    }

    var position: BufferView { inputs.view.slice(offset: 0, size: 4) }
    var token: BufferView { inputs.view.slice(offset: stride, size: 4) }
    var sampling: BufferView { inputs.view.slice(offset: 2 * stride, size: SampleOp.parameterBytes) }
    var chosen: BufferView { result.view }

    func write(position: Int, token: Int, sampling: SamplingParameters, draw: Float) throws {
        var bytes = [UInt8](repeating: 0, count: 2 * stride + SampleOp.parameterBytes)
        func put(_ words: [UInt32], at offset: Int) {
            for (i, w) in words.enumerated() {
                for b in 0..<4 { bytes[offset + 4 * i + b] = UInt8(truncatingIfNeeded: w >> (8 * UInt32(b))) }
            }
        }
        put([UInt32(position)], at: 0)
        put([UInt32(token)], at: stride)
        put(SampleOp.parameterWords(sampling, draw: draw), at: 2 * stride)
        try bytes.withUnsafeBytes { try device.write($0, to: inputs.view) }
    }

    /// The id the last run chose.
    func readChosen() throws -> Int { Int(try device.download(result.view, as: UInt32.self, count: 1)[0]) }
}
