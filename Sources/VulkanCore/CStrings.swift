/// Reads a NUL-terminated C string stored in a fixed-size C array (imported as a tuple).
func string<T>(fromCArray tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// Calls `body` with C string pointers for `strings`, valid for the duration of the call.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
    let owned = strings.map { strdup($0) }
    defer { owned.forEach { free($0) } }
    return try body(owned.map { UnsafePointer($0) })
}

#if canImport(Glibc)
import Glibc
#endif
