import Foundation

/// NPY.parse on arbitrary bytes: any outcome but a crash, a hang or a huge allocation is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    _ = try? NPY.parse(bytes, name: "fuzz.npy")
    _ = try? NPY.parse(bytes, name: "fuzz.npy", allowNonFinite: true)
    return 0
}
