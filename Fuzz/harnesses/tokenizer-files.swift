import Foundation

/// Tokenizer files from arbitrary bytes. First byte even: the rest is tokenizer.json. Odd:
/// vocab.json, merges.txt, added_tokens.json and tokenizer_config.json separated by 0 bytes.
/// A tokenizer that loads then encodes a fixed text with every script the pre-tokenizer knows.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let rest = Data(bytes: data + 1, count: size - 1)
    let names = ["tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json", "tokenizer_config.json"]
    for name in names { try? FileManager.default.removeItem(at: FuzzSupport.scratch.appending(path: name)) }
    let files: [String: Data]
    if data[0] % 2 == 0 {
        files = ["tokenizer.json": rest]
    } else {
        let parts = rest.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false).map { Data($0) }
        files = Dictionary(uniqueKeysWithValues: zip(names.dropFirst(), parts))
    }
    guard let tokenizer = try? Tokenizer(folder: FuzzSupport.folder(with: files)) else { return 0 }
    let ids = tokenizer.encode("Hello, world! It's 2024: café 中文 😀 <|im_start|>user\n  tabs\tand\r\nlines<|im_end|>")
    _ = tokenizer.decode(ids)
    _ = tokenizer.vocabularySize
    return 0
}
