import Foundation

/// ModelConfig on arbitrary config.json bytes; a 0 byte splits off a preprocessor_config.json.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    var files = ["config.json": Data(parts[0])]
    files["preprocessor_config.json"] = parts.count > 1 ? Data(parts[1]) : Data("{}".utf8)
    _ = try? ModelConfig(folder: FuzzSupport.folder(with: files))
    return 0
}
