import Foundation
// TEMPORARY naive references until the Ops CPU references land.
enum Reference {
    static func add(_ a: Float, _ b: Float) -> Float { a + b }
    static func mul(_ a: Float, _ b: Float) -> Float { a * b }
    static func gelu(_ x: Float) -> Float { Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))) }
    static func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }
    static func rmsNorm(_ x: [Float], rows: Int, width: Int, weight: [Float], eps: Float) -> [Float] {
        var y = x
        for r in 0..<rows {
            var ss: Float = 0
            for i in 0..<width { ss += x[r*width+i]*x[r*width+i] }
            let s = 1 / (ss / Float(width) + eps).squareRoot()
            for i in 0..<width { y[r*width+i] = weight[i] * (x[r*width+i] * s) }
        }
        return y
    }
    static func softmax(_ x: [Float], rows: Int, width: Int) -> [Float] {
        var y = x
        for r in 0..<rows {
            let row = x[r*width..<(r+1)*width]
            let m = row.max()!
            let e = row.map { exp($0 - m) }
            let s = e.reduce(0, +)
            for i in 0..<width { y[r*width+i] = e[i]/s }
        }
        return y
    }
    static func layerNormChannels(_ x: [Float], channels c: Int, height h: Int, width w: Int, gamma: [Float], beta: [Float], eps: Float) -> [Float] {
        var y = x
        let p = h*w
        for i in 0..<p {
            var mean: Float = 0
            for k in 0..<c { mean += x[k*p+i] }
            mean /= Float(c)
            var v: Float = 0
            for k in 0..<c { v += (x[k*p+i]-mean)*(x[k*p+i]-mean) }
            let inv = 1/(v/Float(c)+eps).squareRoot()
            for k in 0..<c { y[k*p+i] = (x[k*p+i]-mean)*inv*gamma[k]+beta[k] }
        }
        return y
    }
    static func linear(x: [Float], m: Int, k: Int, weight: [Float], n: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: m*n)
        for i in 0..<m { for j in 0..<n {
            var s: Float = bias?[j] ?? 0
            for t in 0..<k { s += x[i*k+t]*weight[j*k+t] }
            y[i*n+j] = s
        } }
        return y
    }
}
