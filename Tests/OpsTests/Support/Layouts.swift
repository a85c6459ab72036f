/// CHW (PyTorch) <-> HWC (the GPU vision layout) for comparing against the CPU reference.
func hwc(_ x: [Float], _ c: Int, _ h: Int, _ w: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for ch in 0..<c { for p in 0..<h * w { out[p * c + ch] = x[ch * h * w + p] } }
    return out
}

func chw(_ x: [Float], _ c: Int, _ h: Int, _ w: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for ch in 0..<c { for p in 0..<h * w { out[ch * h * w + p] = x[p * c + ch] } }
    return out
}
