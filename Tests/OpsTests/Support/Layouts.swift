@testable import Ops

/// CHW (PyTorch) <-> HWC (the GPU vision layout) for comparing against the CPU reference: the selftest's.
func hwc(_ x: [Float], _ c: Int, _ h: Int, _ w: Int) -> [Float] { SelftestData.hwc(x, c, h, w) }

func chw(_ x: [Float], _ c: Int, _ h: Int, _ w: Int) -> [Float] { SelftestData.chw(x, c, h, w) }
