import Foundation

/// The timestamp formats S3 authentication uses, parsed and printed without DateFormatter
/// (which is slow and locale-sensitive). All times are UTC.
enum AWSDate {
    /// Parses ISO 8601 basic format, "20130524T000000Z" (x-amz-date, X-Amz-Date).
    static func parseISO8601Basic(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z"),
            let year = number(b, 0, 4), let month = number(b, 4, 2), let day = number(b, 6, 2),
            let hour = number(b, 9, 2), let minute = number(b, 11, 2), let second = number(b, 13, 2)
        else { return nil }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// Parses ISO 8601 extended format in UTC, "2013-05-24T00:00:00Z" or with fractional seconds
    /// ("2013-05-24T00:00:00.000Z"), as POST policies give their expiration.
    static func parseISO8601Extended(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b.last == UInt8(ascii: "Z"),
            let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
            let hour = number(b, 11, 2), let minute = number(b, 14, 2), let second = number(b, 17, 2),
            let date = makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        if b.count == 20 { return date }
        let fraction = b[19..<(b.count - 1)]
        // The fraction is only checked, never summed: any number of digits is valid and none can overflow.
        guard fraction.count >= 2, fraction.first == UInt8(ascii: "."),
            fraction.dropFirst().allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return date
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Parses an HTTP date, "Fri, 24 May 2013 00:00:00 GMT" (RFC 7231 IMF-fixdate), or the RFC 2822 form with a
    /// numeric zone ("-0000", as Python's `formatdate` writes, or "+0200"); the weekday is not checked. Nil for
    /// times before 1970, which S3 does not take as request times.
    static func parseHTTPDate(_ text: String) -> Date? {
        var parts = text.split(separator: " ", omittingEmptySubsequences: true)
        if let first = parts.first, first.hasSuffix(",") { parts.removeFirst() }
        // Every field is a short run of digits: a year of more than four digits (or a sign) is no HTTP date,
        // and bounding the text first keeps the calendar arithmetic far from overflow.
        guard parts.count == 5, let offset = zoneOffset(parts[4]),
            let day = digits(parts[0], maxCount: 2), let monthIndex = months.firstIndex(of: parts[1].lowercased()),
            let year = digits(parts[2], maxCount: 4)
        else { return nil }
        let clock = parts[3].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, let hour = digits(clock[0], maxCount: 2), let minute = digits(clock[1], maxCount: 2),
            let second = digits(clock[2], maxCount: 2),
            let local = makeDate(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        let date = local.addingTimeInterval(-TimeInterval(offset))
        return date.timeIntervalSince1970 >= 0 ? date : nil
    }

    /// Seconds east of UTC for "GMT", "UTC", "Z" or "+HHMM"/"-HHMM".
    private static func zoneOffset(_ zone: Substring) -> Int? {
        if ["GMT", "UTC", "Z"].contains(zone) { return 0 }
        let bytes = Array(zone.utf8)
        guard bytes.count == 5, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
            let hours = number(bytes, 1, 2), let minutes = number(bytes, 3, 2), hours < 24, minutes < 60
        else { return nil }
        let offset = hours * 3_600 + minutes * 60
        return bytes[0] == UInt8(ascii: "-") ? -offset : offset
    }

    /// Parses whichever of the two formats `text` is in.
    static func parseAny(_ text: String) -> Date? {
        parseISO8601Basic(text) ?? parseHTTPDate(text)
    }

    /// "20130524T000000Z"
    static func iso8601Basic(_ date: Date) -> String {
        let c = components(date)
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "T" + pad(c.hour, 2) + pad(c.minute, 2)
            + pad(c.second, 2) + "Z"
    }

    /// "2013-05-24T00:00:00Z", the form S3 error documents use for ServerTime and Expires.
    static func iso8601Extended(_ date: Date) -> String {
        let c = components(date)
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T" + pad(c.hour, 2) + ":"
            + pad(c.minute, 2) + ":" + pad(c.second, 2) + "Z"
    }

    /// The decimal value of `count` digits at `start`; nil for a non-digit or a value past `Int.max`.
    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start >= 0, count >= 0, start <= bytes.count - count else { return nil }
        var value = 0
        for byte in bytes[start..<start + count] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let shifted = value.multipliedReportingOverflow(by: 10)
            let next = shifted.partialValue.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !shifted.overflow, !next.overflow else { return nil }
            value = next.partialValue
        }
        return value
    }

    /// The value of 1 to `maxCount` ASCII digits, nil for anything else (signs, spaces, longer runs).
    private static func digits(_ text: Substring, maxCount: Int) -> Int? {
        let bytes = Array(text.utf8)
        guard (1...maxCount).contains(bytes.count) else { return nil }
        return number(bytes, 0, bytes.count)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The years S3's timestamps can carry: four digits. A date outside them is no date to AWS either.
    static let years = 0...9999
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since 1970: the range of every parsed local time,
    /// and the range a date is clamped to before it is printed.
    static let earliestSeconds: Int64 = -62_167_219_200
    static let latestSeconds: Int64 = 253_402_300_799

    private static func makeDate(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Date? {
        // With every field bounded here the arithmetic below stays within ±4e11, far inside Int.
        guard years.contains(year), (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
            (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Whole seconds since 1970 of `date`, clamped to years 0 through 9999 (NaN to 1970): a date computed far
    /// into the future (a huge Expires, say) prints as the last second of 9999 instead of overflowing `Int`.
    static func clampedSeconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard !seconds.isNaN else { return 0 }
        if seconds <= Double(earliestSeconds) { return earliestSeconds }
        if seconds >= Double(latestSeconds) { return latestSeconds }
        return Int64(seconds)
    }

    // Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian calendar arithmetic.
    // https://howardhinnant.github.io/date_algorithms.html
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func components(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let total = Int(clampedSeconds(date))
        var days = total / 86_400
        var secondsOfDay = total % 86_400
        if secondsOfDay < 0 {
            secondsOfDay += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, secondsOfDay / 3_600, secondsOfDay % 3_600 / 60, secondsOfDay % 60)
    }
}
