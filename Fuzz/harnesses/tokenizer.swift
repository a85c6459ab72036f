import Foundation

/// The tiny fixture tokenizer (with its added tokens) on arbitrary bytes: encode as text
/// (lossy UTF-8), decode the bytes as ids, stream the ids, and check the round trip.
let fixtureTokenizer = try! Tokenizer(folder: FuzzSupport.root.appending(path: "Tests/FastVLMTests/Fixtures/tiny-apple"))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let ids = fixtureTokenizer.encode(text)
    // Every byte is in the byte-level vocabulary, so decoding gives the text back, each
    // stretch between added tokens normalised (NFC) on its own as encode normalises it.
    let expected = fixtureTokenizer.splitAdded(text).map { segment -> String in
        switch segment {
        case .added(let token): return token.content
        case .text(let t): return t.precomposedStringWithCanonicalMapping
        }
    }.joined()
    precondition(fixtureTokenizer.decode(ids) == expected, "round trip lost text")
    let arbitraryIDs = stride(from: 0, to: size - 1, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
    _ = fixtureTokenizer.decode(arbitraryIDs, skipSpecialTokens: size % 2 == 0)
    var stream = StreamingDecoder(tokenizer: fixtureTokenizer)
    var streamed = ""
    for id in arbitraryIDs { streamed += stream.append(id) }
    streamed += stream.finish()
    return 0
}
