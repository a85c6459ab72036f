import FastVLM
import Foundation

/// `bench resolutions --chart`: a hand-written SVG of time against the encoder's input side on
/// this device. Per size and model, a bar of vision time with prefill time stacked on it; with
/// several models, a TTFT line per model too.
enum ResolutionChart {
    static let (width, height) = (760.0, 460.0)
    static let (left, right, top, bottom) = (70.0, 190.0, 50.0, 60.0)
    static let visionColour = "#4e79a7", prefillColour = "#f28e2b"
    static let lineColours = ["#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"]

    static func svg(_ report: ResolutionBenchmark.Report) -> String {
        let rows = report.rows.filter { $0.error == nil }
        let models = report.rows.reduce(into: [String]()) { if !$0.contains($1.model) { $0.append($1.model) } }
        let sizes = Array(Set(rows.map(\.imageSize))).sorted()
        let maxSize = Double(sizes.last ?? 1024)
        let maxSeconds = rows.map { max($0.ttftMs, $0.visionMs + $0.prefillMs) / 1e3 }.max() ?? 1
        let (yMax, yStep) = axis(maxSeconds)
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ size: Double) -> Double { left + size / (maxSize * 1.08) * plotW }
        func y(_ s: Double) -> Double { top + plotH - s / yMax * plotH }
        let gap = zip(sizes, sizes.dropFirst()).map { Double($1 - $0) }.min() ?? maxSize
        let barW = max(4, min(40, (x(gap) - x(0)) * 0.7 / Double(max(models.count, 1))))

        var out = [String]()
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">")
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        out.append(text(left, 22, "Time to first token against input resolution on \(report.device)", size: 14, weight: "bold"))
        out.append(text(left, 38, "\(report.weights) weights, \(report.activations) activations, medians of \(report.repetitions); bars: vision + prefill" + (models.count > 1 ? ", lines: TTFT" : ""), size: 11))
        // Axes and grid.
        var tick = 0.0
        while tick <= yMax + 1e-9 {
            out.append("<line x1=\"\(f(left))\" y1=\"\(f(y(tick)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(tick)))\" stroke=\"#ddd\"/>")
            out.append(text(left - 6, y(tick) + 4, label(tick), anchor: "end"))
            tick += yStep
        }
        out.append("<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>")
        out.append("<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>")
        for s in sizes {
            out.append(text(x(Double(s)), top + plotH + 16, "\(s)", anchor: "middle"))
            out.append(text(x(Double(s)), top + plotH + 30, "\(ImageSize.tokens(s)) tok", anchor: "middle", size: 10, fill: "#666"))
        }
        out.append(text(left + plotW / 2, height - 12, "input side N (pixels), (N/64)^2 image tokens", anchor: "middle"))
        out.append("<text x=\"16\" y=\"\(f(top + plotH / 2))\" transform=\"rotate(-90 16 \(f(top + plotH / 2)))\" text-anchor=\"middle\">seconds</text>")
        // Stacked bars, models side by side.
        for (m, model) in models.enumerated() {
            for r in rows where r.model == model {
                let bx = x(Double(r.imageSize)) - barW * Double(models.count) / 2 + barW * Double(m)
                let v = r.visionMs / 1e3, p = r.prefillMs / 1e3
                out.append("<rect x=\"\(f(bx))\" y=\"\(f(y(v)))\" width=\"\(f(barW - 1))\" height=\"\(f(y(0) - y(v)))\" fill=\"\(visionColour)\"><title>\(escape(model)) \(r.imageSize): vision \(label(v)) s</title></rect>")
                out.append("<rect x=\"\(f(bx))\" y=\"\(f(y(v + p)))\" width=\"\(f(barW - 1))\" height=\"\(f(y(v) - y(v + p)))\" fill=\"\(prefillColour)\"><title>\(escape(model)) \(r.imageSize): prefill \(label(p)) s</title></rect>")
            }
        }
        // TTFT lines when several models are compared.
        if models.count > 1 {
            for (m, model) in models.enumerated() {
                let points = rows.filter { $0.model == model }.map { (x(Double($0.imageSize)), y($0.ttftMs / 1e3)) }
                let colour = lineColours[m % lineColours.count]
                out.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\"/>")
                for (px, py) in points { out.append("<circle cx=\"\(f(px))\" cy=\"\(f(py))\" r=\"3.5\" fill=\"\(colour)\"/>") }
            }
        }
        // Legend.
        var ly = top + 8
        let lx = left + plotW + 20
        for (name, colour) in [("vision encoder", visionColour), ("prefill", prefillColour)] {
            out.append("<rect x=\"\(f(lx))\" y=\"\(f(ly - 9))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>")
            out.append(text(lx + 18, ly + 1, name))
            ly += 20
        }
        if models.count > 1 {
            out.append(text(lx, ly + 4, "bars left to right:", size: 11, fill: "#666"))
            ly += 20
            for (m, model) in models.enumerated() {
                let colour = lineColours[m % lineColours.count]
                out.append("<line x1=\"\(f(lx))\" y1=\"\(f(ly - 3))\" x2=\"\(f(lx + 12))\" y2=\"\(f(ly - 3))\" stroke=\"\(colour)\" stroke-width=\"2\"/>")
                out.append(text(lx + 18, ly + 1, "TTFT \(model)"))
                ly += 20
            }
        }
        let failed = report.rows.filter { $0.error != nil }
        if !failed.isEmpty {
            out.append(text(lx, ly + 8, "not run: " + failed.map { "\($0.model) \($0.imageSize)" }.joined(separator: ", "), size: 10, fill: "#a00"))
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// The axis top and tick step: 1, 2 or 5 times a power of ten, about five ticks.
    static func axis(_ maximum: Double) -> (Double, Double) {
        let raw = max(maximum, 1e-3) / 5
        let power = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? raw
        return ((maximum / step).rounded(.up) * step, step)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func label(_ v: Double) -> String { v == 0 ? "0" : v >= 10 ? String(format: "%.0f", v) : v >= 1 ? String(format: "%.1f", v) : String(format: "%.2f", v) }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 12, weight: String = "normal", fill: String = "black") -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(escape(s))</text>"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
