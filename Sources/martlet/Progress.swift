import Foundation
import Synchronization

/// A progress display for long admin commands: on a terminal, one line redrawn at most ten times a second
/// (files, bytes, rate, ETA); otherwise a plain line every few seconds, so a CI log stays readable.
final class Progress: Sendable {
    private struct State {
        var items = 0
        var bytes: Int64 = 0
        var lastDrawn = ContinuousClock.now - .seconds(60)
    }

    private let label: String
    private let unit: String
    private let totalItems: Int?
    private let totalBytes: Int64?
    private let started = ContinuousClock.now
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    init(_ label: String, unit: String, totalItems: Int?, totalBytes: Int64?) {
        self.label = label
        self.unit = unit
        self.totalItems = totalItems
        self.totalBytes = totalBytes
    }

    func advance(items: Int = 1, bytes: Int64) {
        let line = state.withLock { state -> String? in
            state.items += items
            state.bytes += bytes
            let now = ContinuousClock.now
            guard now - state.lastDrawn >= (isTerminal ? .milliseconds(100) : .seconds(5)) else { return nil }
            state.lastDrawn = now
            return render(state)
        }
        if let line { write(line, final: false) }
    }

    func finish() {
        write(state.withLock { render($0) }, final: true)
    }

    private func render(_ state: State) -> String {
        let elapsed = Self.seconds(ContinuousClock.now - started)
        let rate = elapsed > 0 ? Double(state.bytes) / elapsed : 0
        var parts: [String] = [label]
        // The bar follows the bytes where their total is known, else the items (rows of a table being copied).
        let fraction: Double? = if let totalBytes, totalBytes > 0 {
            min(1, Double(state.bytes) / Double(totalBytes))
        } else if let totalItems, totalItems > 0 {
            min(1, Double(state.items) / Double(totalItems))
        } else {
            nil
        }
        if let fraction {
            let filled = Int(fraction * 24)
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 24 - filled) + "]")
            parts.append(String(format: "%3.0f%%", fraction * 100))
        }
        parts.append(totalItems.map { "\(state.items)/\($0) \(unit)" } ?? "\(state.items) \(unit)")
        parts.append(Self.bytes(state.bytes) + (totalBytes.map { "/" + Self.bytes($0) } ?? ""))
        parts.append(Self.bytes(Int64(rate)) + "/s")
        if let totalBytes, rate > 0, state.bytes < totalBytes {
            parts.append("ETA " + Self.duration(Double(totalBytes - state.bytes) / rate))
        } else if totalBytes == nil, let fraction, fraction > 0, fraction < 1 {
            parts.append("ETA " + Self.duration(elapsed * (1 - fraction) / fraction))
        }
        return parts.joined(separator: "  ")
    }

    private func write(_ line: String, final: Bool) {
        let text = isTerminal ? "\r\u{1B}[2K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 3600 ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
            : String(format: "%d:%02d", whole / 60, whole % 60)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
