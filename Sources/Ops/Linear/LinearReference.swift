import Dispatch

extension Reference {
    /// Y[m][n] = sum_k X[m][k] W[n][k] + b[n]. Blocked 4x4 and split over the cores.
    public static func linear(x: [Float], m: Int, k: Int, weight: [Float], n: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    gemmNT(xp.baseAddress!, wp.baseAddress!, yp.baseAddress!, m: m, n: n, k: k)
                }
            }
        }
        if let bias {
            for i in 0..<m { for j in 0..<n { y[i * n + j] += bias[j] } }
        }
        return y
    }

    /// A 1x1 convolution on CHW: Y[o][p] = sum_c W[o][c] X[c][p] + b[o].
    public static func conv1x1(x: [Float], channels c: Int, pixels p: Int, weight: [Float], outChannels o: Int, bias: [Float]?) -> [Float] {
        // Y^T = X^T W^T: transpose once so the inner loop runs over contiguous channels.
        let xt = transpose(x, rows: c, cols: p)
        let yt = linear(x: xt, m: p, k: c, weight: weight, n: o, bias: bias)
        return transpose(yt, rows: p, cols: o)
    }

    public static func transpose(_ a: [Float], rows: Int, cols: Int) -> [Float] {
        var out = [Float](repeating: 0, count: a.count)
        a.withUnsafeBufferPointer { ap in
            out.withUnsafeMutableBufferPointer { op in
                let block = 32
                for r0 in stride(from: 0, to: rows, by: block) {
                    for c0 in stride(from: 0, to: cols, by: block) {
                        for r in r0..<min(rows, r0 + block) {
                            for c in c0..<min(cols, c0 + block) { op[c * rows + r] = ap[r * cols + c] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// C[m][n] = A[m][:] . B[n][:]: rows of A split across threads, 4x4 blocks of outputs,
    /// each a SIMD8 dot product over k (Swift does not vectorise a plain float reduction).
    static func gemmNT(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int) {
        let rowBlocks = (m + 3) / 4
        let chunks = max(1, min(rowBlocks, 64))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let first = rowBlocks * chunk / chunks * 4, last = min(m, rowBlocks * (chunk + 1) / chunks * 4)
            // Column blocks outermost inside a chunk keep 4 rows of B hot while A streams.
            for j in stride(from: 0, to: n, by: 4) {
                let nr = min(4, n - j)
                for i in stride(from: first, to: last, by: 4) {
                    let mr = min(4, last - i)
                    if mr == 4 && nr == 4 {
                        block4x4(a + i * k, b + j * k, c + i * n + j, ldc: n, k: k)
                    } else {
                        for ii in 0..<mr { for jj in 0..<nr { c[(i + ii) * n + j + jj] = dot(a + (i + ii) * k, b + (j + jj) * k, k) } }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        var acc = SIMD8<Float>()
        var t = 0
        while t + 8 <= k { acc += load8(a + t) * load8(b + t); t += 8 }
        var sum = acc.sum()
        while t < k { sum += a[t] * b[t]; t += 1 }
        return sum
    }

    static func block4x4(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, ldc: Int, k: Int) {
        var s00 = SIMD8<Float>(), s01 = SIMD8<Float>(), s02 = SIMD8<Float>(), s03 = SIMD8<Float>()
        var s10 = SIMD8<Float>(), s11 = SIMD8<Float>(), s12 = SIMD8<Float>(), s13 = SIMD8<Float>()
        var s20 = SIMD8<Float>(), s21 = SIMD8<Float>(), s22 = SIMD8<Float>(), s23 = SIMD8<Float>()
        var s30 = SIMD8<Float>(), s31 = SIMD8<Float>(), s32 = SIMD8<Float>(), s33 = SIMD8<Float>()
        let (a0, a1, a2, a3) = (a, a + k, a + 2 * k, a + 3 * k)
        let (b0, b1, b2, b3) = (b, b + k, b + 2 * k, b + 3 * k)
        var t = 0
        while t + 8 <= k {
            let x0 = load8(a0 + t), x1 = load8(a1 + t), x2 = load8(a2 + t), x3 = load8(a3 + t)
            let y0 = load8(b0 + t), y1 = load8(b1 + t), y2 = load8(b2 + t), y3 = load8(b3 + t)
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3
            s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3
            s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3
            t += 8
        }
        let sums: [[SIMD8<Float>]] = [[s00, s01, s02, s03], [s10, s11, s12, s13], [s20, s21, s22, s23], [s30, s31, s32, s33]]
        let rows = [a0, a1, a2, a3], cols = [b0, b1, b2, b3]
        for i in 0..<4 {
            for j in 0..<4 {
                var v = sums[i][j].sum()
                for r in t..<k { v += rows[i][r] * cols[j][r] }
                c[i * ldc + j] = v
            }
        }
    }
}
