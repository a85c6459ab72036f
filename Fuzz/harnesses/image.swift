import Foundation

/// PNG/JPEG decoding and both preprocessing modes through the public API, on arbitrary bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let image = try? ImageFile.decode(Data(bytes: data, count: size), name: "fuzz") else { return 0 }
    // Small output sizes keep each run fast; odd ones exercise the resize edges.
    for mode in PreprocessMode.allCases {
        let pixels = Preprocess.pixels(image, size: 64, mode: mode)
        precondition(pixels.count == 3 * 64 * 64, "\(mode): \(pixels.count) values")
    }
    return 0
}
