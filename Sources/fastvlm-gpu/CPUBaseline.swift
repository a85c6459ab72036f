// TEMPORARY until Ops' CPU reference lands.
import Dispatch
enum CPUBaseline {
    static func linear(x: [Float], m: Int, k: Int, weight: [Float], n: Int) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        y.withUnsafeMutableBufferPointer { yp in
            let yb = yp
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                for i in stride(from: part, to: m, by: 2) { for j in 0..<n {
                    var s: Float = 0
                    for t in 0..<k { s += x[i*k+t]*weight[j*k+t] }
                    yb[i*n+j] = s
                } }
            }
        }
        return y
    }
}
