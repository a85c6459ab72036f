/// First-fit allocation of byte ranges inside a fixed span, with coalescing frees.
/// Used for device memory blocks and for per-graph activation arenas.
public struct RangeAllocator: Sendable {
    public let size: Int
    private var free: [(offset: Int, size: Int)]
    public private(set) var used = 0
    public private(set) var peak = 0

    public init(size: Int) {
        self.size = size
        free = [(0, size)]
    }

    /// The offset of a new range, or nil when no free range fits.
    public mutating func take(_ bytes: Int, alignment: Int) -> Int? {
        for (i, range) in free.enumerated() {
            let start = (range.offset + alignment - 1) / alignment * alignment
            let end = start + bytes
            guard end <= range.offset + range.size else { continue }
            free.remove(at: i)
            if end < range.offset + range.size { free.insert((end, range.offset + range.size - end), at: i) }
            if start > range.offset { free.insert((range.offset, start - range.offset), at: i) }
            used += bytes
            peak = max(peak, used)
            return start
        }
        return nil
    }

    /// Returns a range and merges it with its free neighbours.
    public mutating func give(offset: Int, size bytes: Int) {
        used -= bytes
        let index = free.firstIndex { $0.offset > offset } ?? free.count
        free.insert((offset, bytes), at: index)
        var i = max(0, index - 1)
        while i + 1 < free.count {
            if free[i].offset + free[i].size == free[i + 1].offset {
                free[i].size += free[i + 1].size
                free.remove(at: i + 1)
            } else {
                i += 1
            }
        }
    }

    public var isEmpty: Bool { free.count == 1 && free[0].size == size }
}
