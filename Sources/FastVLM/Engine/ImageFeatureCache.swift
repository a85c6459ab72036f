import Crypto
import Foundation

/// Projected image rows by the content hash of the image file (and how it was prepared), so
/// a repeated image (many questions about one screen or camera frame) skips the vision
/// encoder. Least recently used entries go first. Used only on the engine's thread.
struct ImageFeatureCache {
    let capacity: Int
    private var entries: [(key: String, rows: [Float])] = []

    init(capacity: Int) { self.capacity = max(0, capacity) }

    static func key(_ image: Data, size: Int, mode: PreprocessMode) -> String {
        SHA256.hash(data: image).map { String(format: "%02x", $0) }.joined() + "/\(size)/\(mode.rawValue)"
    }

    mutating func rows(for key: String) -> [Float]? {
        guard let i = entries.firstIndex(where: { $0.key == key }) else { return nil }
        let hit = entries.remove(at: i)
        entries.append(hit)
        return hit.rows
    }

    mutating func insert(_ rows: [Float], for key: String) {
        guard capacity > 0 else { return }
        entries.removeAll { $0.key == key }
        if entries.count >= capacity { entries.removeFirst() }
        entries.append((key, rows))
    }
}
