/// The input side S of the vision encoder. FastViTHD is convolutions plus attention with a
/// convolutional position encoding and reduces the image 64 times, so it runs at any multiple
/// of 64 and gives (S/64)^2 image tokens; the checkpoint's own size is only its default.
public enum ImageSize {
    public static let multiple = 64
    /// The largest side accepted before any memory is planned (4096 tokens); what a device can
    /// hold is checked when the encoder is recorded.
    public static let maximum = 4096

    public static func tokens(_ s: Int) -> Int { let side = s / multiple; return side * side }

    /// Throws, naming the rule, unless `s` is a multiple of 64 in 64...maximum.
    public static func check(_ s: Int) throws {
        guard s >= multiple, s <= maximum, s % multiple == 0 else {
            throw ImageSizeError(description: "image size \(s) is not supported: it must be a multiple of \(multiple) from \(multiple) to \(maximum) (the encoder reduces the image \(multiple) times; \(multiple) gives 1 image token, 1024 gives 256)")
        }
    }
}

public struct ImageSizeError: Error, CustomStringConvertible {
    public let description: String
}
