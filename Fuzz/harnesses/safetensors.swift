import Foundation

/// SafetensorsFile on arbitrary bytes, then every tensor it accepted read back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzSupport.folder(with: ["fuzz.safetensors": Data(bytes: data, count: size)]).appending(path: "fuzz.safetensors")
    guard let file = try? SafetensorsFile(url: url) else { return 0 }
    for entry in file.tensors.values { _ = try? entry.floats() }
    return 0
}
