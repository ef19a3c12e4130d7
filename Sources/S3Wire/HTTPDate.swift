import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Dates as S3 writes them: RFC 1123 in headers, ISO 8601 with milliseconds in XML.
public enum HTTPDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The years an S3 date can carry: four digits. Parsers refuse dates outside them; printers clamp to them.
    static let years: ClosedRange<Int32> = 0...9999
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in seconds since 1970.
    static let earliestSeconds: Double = -62_167_219_200
    static let latestSeconds: Double = 253_402_300_799

    /// `date`'s seconds since 1970 within years 0 to 9999 (NaN as 1970). A stored date computed far ahead (a
    /// retention or lifecycle date) then prints as 9999-12-31 instead of trapping in `time_t(_:)`.
    static func clampedInterval(_ date: Date) -> Double {
        let seconds = date.timeIntervalSince1970
        guard !seconds.isNaN else { return 0 }
        return min(max(seconds, earliestSeconds), latestSeconds)
    }

    /// The date `seconds` names, nil past 9999-12-31T23:59:59Z (a day 31 or second 60 timegm carried into year 10000),
    /// so that every parsed date prints back as itself.
    private static func inYears(_ seconds: time_t) -> Date? {
        let value = Double(seconds)
        guard value >= earliestSeconds, value <= latestSeconds else { return nil }
        return Date(timeIntervalSince1970: value)
    }

    private static func components(_ date: Date) -> tm {
        var seconds = time_t(clampedInterval(date).rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return parts
    }

    private static func pad(_ value: Int32, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `Wed, 21 Oct 2015 07:28:00 GMT`
    public static func rfc1123(_ date: Date) -> String {
        let t = components(date)
        return "\(weekdays[Int(t.tm_wday)]), \(pad(t.tm_mday, 2)) \(months[Int(t.tm_mon)]) \(pad(t.tm_year + 1900, 4)) "
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)) GMT"
    }

    /// `2015-10-21T07:28:00.123Z`
    public static func iso8601(_ date: Date) -> String {
        let t = components(date)
        // Clamped first, the milliseconds (at most ±2.6e14) convert exactly and cannot trap.
        var millis = Int32((clampedInterval(date) * 1000).rounded(.down).truncatingRemainder(dividingBy: 1000))
        if millis < 0 { millis += 1000 }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(millis, 3))Z"
    }

    /// Parses the three HTTP date forms (RFC 1123, RFC 850, asctime); nil if none fits.
    public static func parse(_ text: String) -> Date? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        var day: Int32?, month: Int32?, year: Int32?, clock: [Int32]?
        // Skip the weekday; the rest identify themselves by shape.
        for token in tokens.dropFirst() {
            if let index = months.firstIndex(of: token) {
                month = Int32(index)
            } else if token.contains(":") {
                let parts = token.split(separator: ":").compactMap { Int32($0) }
                guard parts.count == 3 else { return nil }
                clock = parts
            } else if let number = Int32(token) {
                if day == nil, token.count <= 2, month == nil || year == nil, !(month != nil && clock != nil) {
                    day = number
                } else {
                    year = token.count == 2 ? (number < 70 ? 2000 + number : 1900 + number) : number
                }
            } else if token != "GMT" && token != "UTC" && token != "+0000" {
                return nil
            }
        }
        guard let day, let month, let year, let clock, years.contains(year), (1...31).contains(day),
              (0..<24).contains(clock[0]), (0..<60).contains(clock[1]), (0..<61).contains(clock[2])
        else {
            return nil
        }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month
        parts.tm_mday = day
        parts.tm_hour = clock[0]
        parts.tm_min = clock[1]
        parts.tm_sec = clock[2]
        return inYears(timegm(&parts))
    }

    /// Parses ISO 8601 as S3 documents carry it: `2026-01-01T00:00:00Z`, with optional fraction and offset
    /// `+00:00`, or a bare `2026-01-01`. Nil if it does not fit.
    public static func parseISO8601(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int32? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        if bytes.count > 10 {
            guard bytes[10] == UInt8(ascii: "T"), bytes.count >= 19, bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                  let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
                  hour < 24, minute < 60, second < 61
            else { return nil }
            var rest = bytes[19...]
            if rest.first == UInt8(ascii: ".") {
                rest = rest.dropFirst().drop { $0 >= 48 && $0 <= 57 }
            }
            guard rest.elementsEqual("Z".utf8) || rest.elementsEqual("+00:00".utf8) || rest.isEmpty else { return nil }
            parts.tm_hour = hour
            parts.tm_min = minute
            parts.tm_sec = second
        }
        return inYears(timegm(&parts))
    }
}
