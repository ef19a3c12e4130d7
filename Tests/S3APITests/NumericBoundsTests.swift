import Foundation
import HTTPTypes
import ObjectStore
import Testing

@testable import S3API
@testable import S3Wire

/// Every number a request gives the S3 layer (headers, query parameters, request documents), at its extremes:
/// a value in range parses, any other is the operation's S3 error, and none traps (issue 24).
@Suite("Numeric bounds: request integers and dates")
struct WireNumericBoundsTests {
    static let digits20 = "12345678901234567890"
    static let digits40 = digits20 + digits20

    /// A named input and its outcome: the value parsed, or the S3 error code.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let value: Int64?
        let code: S3ErrorCode?
        var testDescription: String { name }

        static func ok(_ name: String, _ text: String, _ value: Int64) -> Case { Case(name: name, text: text, value: value, code: nil) }
        static func error(_ name: String, _ text: String, _ code: S3ErrorCode) -> Case { Case(name: name, text: text, value: nil, code: code) }
    }

    /// Runs `parse` on the case's text and checks the value or the error.
    static func check(_ c: Case, _ parse: (String) throws -> Int64) {
        if let code = c.code {
            #expect(s3ErrorCode { try parse(c.text) } == code)
        } else {
            #expect((try? parse(c.text)) == c.value)
        }
    }

    /// The extremes every integer table runs through, with what a non-negative 32-bit parameter makes of them.
    static func integerExtremes(_ code: S3ErrorCode, capped limit: Int64? = nil) -> [Case] {
        [
            .ok("0", "0", 0),
            .error("-1", "-1", code),
            .ok("Int32.max", "2147483647", limit ?? 2_147_483_647),
            .error("Int32.max + 1", "2147483648", code),
            .error("Int64.max", "9223372036854775807", code),
            .error("Int64.min", "-9223372036854775808", code),
            .error("20 digits", digits20, code),
            .error("40 digits", digits40, code),
            .error("empty", "", code),
            .error("hex", "0x10", code),
        ]
    }

    @Test(arguments: integerExtremes(.invalidArgument, capped: 1000) + [.ok("in range", "5", 5)])
    func maxKeys(_ c: Case) {
        Self.check(c) { Int64(try S3Handlers.maxKeys($0)) }
        Self.check(c) { Int64(try RequestNumber.count($0, name: "max-uploads", limit: 1000)) }
    }

    @Test(arguments: integerExtremes(.invalidArgument))
    func partNumberMarker(_ c: Case) {
        Self.check(c) { Int64(try RequestNumber.partNumberMarker($0, name: "part-number-marker")) }
    }

    @Test(arguments: [
        Case.error("0", "0", .invalidArgument), .error("-1", "-1", .invalidArgument), .ok("1", "1", 1),
        .ok("10000", "10000", 10_000), .error("10001", "10001", .invalidArgument),
        .error("Int64.max", "9223372036854775807", .invalidArgument), .error("Int64.min", "-9223372036854775808", .invalidArgument),
        .error("20 digits", digits20, .invalidArgument), .error("40 digits", digits40, .invalidArgument),
    ])
    func partNumber(_ c: Case) {
        Self.check(c) { Int64(try S3Handlers.partNumber($0)) }
    }

    static let lengths: [Case] = [
        .ok("0", "0", 0), .error("-1", "-1", .invalidArgument), .ok("Int64.max", "9223372036854775807", Int64.max),
        .error("Int64.min", "-9223372036854775808", .invalidArgument), .error("20 digits", digits20, .invalidArgument),
        .error("40 digits", digits40, .invalidArgument), .error("a fraction", "1.5", .invalidArgument),
    ]

    @Test(arguments: lengths)
    func contentLengthAndObjectSize(_ c: Case) {
        Self.check(c) { try RequestNumber.length($0, name: "Content-Length") }
        Self.check(c) { try RequestNumber.length($0, name: "x-amz-mp-object-size") }
    }

    /// Range: a value S3 cannot read is ignored (the whole object), an unsatisfiable one is InvalidRange; the
    /// upper end is clamped to the object before `+ 1`, so Int64.max cannot overflow it.
    struct RangeCase: CustomTestStringConvertible, Sendable {
        let name: String
        let header: String
        let expected: Range<Int64>?
        let code: S3ErrorCode?
        var testDescription: String { name }
    }

    @Test(arguments: [
        RangeCase(name: "0-0", header: "bytes=0-0", expected: 0..<1, code: nil),
        RangeCase(name: "0-Int64.max", header: "bytes=0-9223372036854775807", expected: 0..<10, code: nil),
        RangeCase(name: "Int64.max-Int64.max", header: "bytes=9223372036854775807-9223372036854775807", expected: nil, code: .invalidRange),
        RangeCase(name: "suffix Int64.max", header: "bytes=-9223372036854775807", expected: 0..<10, code: nil),
        RangeCase(name: "suffix Int64.min", header: "bytes=--9223372036854775808", expected: nil, code: nil),
        RangeCase(name: "-1 as the start", header: "bytes=-1-5", expected: nil, code: nil),
        RangeCase(name: "20-digit start", header: "bytes=\(digits20)-", expected: nil, code: nil),
        RangeCase(name: "40-digit end", header: "bytes=0-\(digits40)", expected: nil, code: nil),
        RangeCase(name: "suffix of 0", header: "bytes=-0", expected: nil, code: .invalidRange),
    ])
    func byteRange(_ c: RangeCase) throws {
        if let code = c.code {
            #expect(s3ErrorCode { try ByteRange.parse(c.header, size: 10) } == code)
        } else {
            #expect(try ByteRange.parse(c.header, size: 10) == c.expected)
        }
    }

    @Test(arguments: [
        RangeCase(name: "0-0", header: "bytes=0-0", expected: 0..<1, code: nil),
        RangeCase(name: "last byte", header: "bytes=9-9", expected: 9..<10, code: nil),
        RangeCase(name: "0-Int64.max", header: "bytes=0-9223372036854775807", expected: nil, code: .invalidRange),
        RangeCase(name: "Int64.max-Int64.max", header: "bytes=9223372036854775807-9223372036854775807", expected: nil, code: .invalidRange),
        RangeCase(name: "-1-5", header: "bytes=-1-5", expected: nil, code: .invalidArgument),
        RangeCase(name: "Int64.min-0", header: "bytes=-9223372036854775808-0", expected: nil, code: .invalidArgument),
        RangeCase(name: "20 digits", header: "bytes=0-\(digits20)", expected: nil, code: .invalidArgument),
        RangeCase(name: "40 digits", header: "bytes=\(digits40)-\(digits40)", expected: nil, code: .invalidArgument),
    ])
    func copySourceRange(_ c: RangeCase) throws {
        if let code = c.code {
            #expect(s3ErrorCode { try S3Handlers.copySourceRange(c.header, size: 10) } == code)
        } else {
            #expect(try S3Handlers.copySourceRange(c.header, size: 10) == c.expected)
        }
    }

    // MARK: - Dates

    struct DateCase: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let epoch: Double?
        var testDescription: String { name }
    }

    /// 9999-12-31T23:59:59Z and 0000-01-01T00:00:00Z.
    static let lastSecond = 253_402_300_799.0
    static let firstSecond = -62_167_219_200.0

    /// If-(Un)Modified-Since and their copy-source forms: a date S3 cannot read is ignored (nil), never a trap.
    @Test(arguments: [
        DateCase(name: "the date of issue 24's crash", text: "Fri, 04 Dec 435283332026 04:46:44 GMT", epoch: nil),
        DateCase(name: "year 0", text: "Sat, 01 Jan 0000 00:00:00 GMT", epoch: firstSecond),
        DateCase(name: "year 9999", text: "Fri, 31 Dec 9999 23:59:59 GMT", epoch: lastSecond),
        DateCase(name: "year 10000", text: "Sat, 01 Jan 10000 00:00:00 GMT", epoch: nil),
        DateCase(name: "year 10^12", text: "Fri, 01 Jan 1000000000000 00:00:00 GMT", epoch: nil),
        DateCase(name: "year Int32.max", text: "Fri, 01 Jan 2147483647 00:00:00 GMT", epoch: nil),
        DateCase(name: "year Int64.max", text: "Fri, 01 Jan 9223372036854775807 00:00:00 GMT", epoch: nil),
        DateCase(name: "year Int64.min", text: "Fri, 01 Jan -9223372036854775808 00:00:00 GMT", epoch: nil),
        DateCase(name: "year of 20 digits", text: "Fri, 01 Jan \(digits20) 00:00:00 GMT", epoch: nil),
        DateCase(name: "year of 40 digits", text: "Fri, 01 Jan \(digits40) 00:00:00 GMT", epoch: nil),
        DateCase(name: "day Int64.max", text: "Fri, 9223372036854775807 Jan 2013 00:00:00 GMT", epoch: nil),
        DateCase(name: "hour of 20 digits", text: "Fri, 24 May 2013 \(digits20):00:00 GMT", epoch: nil),
        DateCase(name: "RFC 850, year 2013", text: "Friday, 24-May-13 00:00:00 GMT", epoch: 1_369_353_600),
        DateCase(name: "asctime", text: "Fri May 24 00:00:00 2013", epoch: 1_369_353_600),
    ])
    func httpDate(_ c: DateCase) {
        #expect(HTTPDate.parse(c.text)?.timeIntervalSince1970 == c.epoch)
    }

    /// ISO 8601 as lifecycle Date, Retention RetainUntilDate and x-amz-object-lock-retain-until-date carry it.
    @Test(arguments: [
        DateCase(name: "year 0", text: "0000-01-01T00:00:00Z", epoch: firstSecond),
        DateCase(name: "year 9999", text: "9999-12-31T23:59:59Z", epoch: lastSecond),
        DateCase(name: "year 10000", text: "10000-01-01T00:00:00Z", epoch: nil),
        DateCase(name: "year 10^12", text: "1000000000000-01-01T00:00:00Z", epoch: nil),
        DateCase(name: "a 40-digit fraction", text: "2030-01-01T00:00:00.\(digits40)Z", epoch: 1_893_456_000),
        DateCase(name: "a negative year", text: "-001-01-01T00:00:00Z", epoch: nil),
        DateCase(name: "20 digits", text: digits20, epoch: nil),
    ])
    func iso8601(_ c: DateCase) {
        #expect(HTTPDate.parseISO8601(c.text)?.timeIntervalSince1970 == c.epoch)
    }

    struct Printed: CustomTestStringConvertible, Sendable {
        let name: String
        let seconds: Double
        let rfc1123: String
        let iso8601: String
        var testDescription: String { name }
    }

    /// A stored date far ahead (a retention or lifecycle due date) prints clamped to 9999 instead of trapping.
    @Test(arguments: [
        Printed(name: "0", seconds: 0, rfc1123: "Thu, 01 Jan 1970 00:00:00 GMT", iso8601: "1970-01-01T00:00:00.000Z"),
        Printed(name: "-1", seconds: -1, rfc1123: "Wed, 31 Dec 1969 23:59:59 GMT", iso8601: "1969-12-31T23:59:59.000Z"),
        Printed(name: "the last second of 9999", seconds: lastSecond, rfc1123: "Fri, 31 Dec 9999 23:59:59 GMT",
                iso8601: "9999-12-31T23:59:59.000Z"),
        Printed(name: "year 10^12", seconds: 3.1556952e19, rfc1123: "Fri, 31 Dec 9999 23:59:59 GMT", iso8601: "9999-12-31T23:59:59.000Z"),
        Printed(name: "Int64.max", seconds: Double(Int64.max), rfc1123: "Fri, 31 Dec 9999 23:59:59 GMT", iso8601: "9999-12-31T23:59:59.000Z"),
        Printed(name: "Int64.min", seconds: Double(Int64.min), rfc1123: "Sat, 01 Jan 0000 00:00:00 GMT", iso8601: "0000-01-01T00:00:00.000Z"),
        Printed(name: "infinity", seconds: .infinity, rfc1123: "Fri, 31 Dec 9999 23:59:59 GMT", iso8601: "9999-12-31T23:59:59.000Z"),
        Printed(name: "NaN", seconds: .nan, rfc1123: "Thu, 01 Jan 1970 00:00:00 GMT", iso8601: "1970-01-01T00:00:00.000Z"),
        Printed(name: "milliseconds", seconds: 1.123, rfc1123: "Thu, 01 Jan 1970 00:00:01 GMT", iso8601: "1970-01-01T00:00:01.123Z"),
    ])
    func printsClamped(_ p: Printed) {
        let date = Date(timeIntervalSince1970: p.seconds)
        #expect(HTTPDate.rfc1123(date) == p.rfc1123)
        #expect(HTTPDate.iso8601(date) == p.iso8601)
    }

    @Test(arguments: [
        DateCase(name: "year 9999", text: "9999-12-31T23:59:59Z", epoch: lastSecond),
        DateCase(name: "year 10000", text: "10000-01-01T00:00:00Z", epoch: nil),
        DateCase(name: "year 10^12", text: "1000000000000-01-01T00:00:00Z", epoch: nil),
        DateCase(name: "year Int64.max", text: "9223372036854775807-01-01T00:00:00Z", epoch: nil),
    ])
    func retainUntilDate(_ c: DateCase) {
        var headers = HTTPFields()
        headers[.amzObjectLockMode] = "GOVERNANCE"
        headers[.amzObjectLockRetainUntilDate] = c.text
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        if let epoch = c.epoch {
            #expect((try? ObjectLockXML.request(from: headers, now: now))?.retention?.retainUntil.timeIntervalSince1970 == epoch)
        } else {
            #expect(s3ErrorCode { try ObjectLockXML.request(from: headers, now: now) } == .invalidArgument)
        }
        let document = "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>\(c.text)</RetainUntilDate></Retention>"
        if let epoch = c.epoch {
            #expect((try? ObjectLockXML.parseRetention(Array(document.utf8), now: now))??.retainUntil.timeIntervalSince1970 == epoch)
        } else {
            #expect(s3ErrorCode { try ObjectLockXML.parseRetention(Array(document.utf8), now: now) } == .malformedXML)
        }
    }

    // MARK: - Numbers in request documents

    static func lifecycle(_ action: String) -> [UInt8] {
        Array("<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>\(action)</Rule></LifecycleConfiguration>".utf8)
    }

    @Test(arguments: integerExtremes(.invalidArgument).filter { $0.value != 0 } + [.error("0", "0", .invalidArgument)])
    func lifecycleDays(_ c: Case) {
        Self.check(c) { text in
            let configuration = try LifecycleXML.parse(Self.lifecycle("<Expiration><Days>\(text)</Days></Expiration>"))
            return Int64(configuration.rules[0].expiration?.days ?? -1)
        }
        Self.check(c) { text in
            let configuration = try LifecycleXML.parse(Self.lifecycle("<NoncurrentVersionExpiration><NoncurrentDays>\(text)</NoncurrentDays></NoncurrentVersionExpiration>"))
            return Int64(configuration.rules[0].noncurrentExpiration?.noncurrentDays ?? -1)
        }
        Self.check(c) { text in
            let configuration = try LifecycleXML.parse(Self.lifecycle("<AbortIncompleteMultipartUpload><DaysAfterInitiation>\(text)</DaysAfterInitiation></AbortIncompleteMultipartUpload>"))
            return Int64(configuration.rules[0].abortIncompleteUploadDays ?? -1)
        }
    }

    /// The longest lifecycle a rule can ask for (Int32.max days) gives a due date that prints and compares.
    @Test func longestLifecycleDueDate() {
        let due = LifecycleClock().due(after: Date(timeIntervalSince1970: 0), days: Int(Int32.max))
        #expect(due.timeIntervalSince1970.isFinite)
        #expect(HTTPDate.rfc1123(due) == "Fri, 31 Dec 9999 23:59:59 GMT")
    }

    @Test(arguments: [
        DateCase(name: "year 9999 at midnight", text: "9999-12-31T00:00:00Z", epoch: lastSecond - 86_399),
        DateCase(name: "year 10000", text: "10000-01-01T00:00:00Z", epoch: nil),
        DateCase(name: "year 10^12", text: "1000000000000-01-01T00:00:00Z", epoch: nil),
    ])
    func lifecycleDate(_ c: DateCase) {
        let document = Self.lifecycle("<Expiration><Date>\(c.text)</Date></Expiration>")
        if let epoch = c.epoch {
            #expect((try? LifecycleXML.parse(document))?.rules[0].expiration?.date?.timeIntervalSince1970 == epoch)
        } else {
            #expect(s3ErrorCode { try LifecycleXML.parse(document) } == .malformedXML)
        }
    }

    @Test(arguments: integerExtremes(.malformedXML))
    func corsMaxAgeSeconds(_ c: Case) {
        Self.check(c) { text in
            let rules = try CORSXML.parse(Array("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>\(text)</MaxAgeSeconds></CORSRule></CORSConfiguration>".utf8))
            return Int64(rules[0].maxAgeSeconds ?? -1)
        }
    }

    static func objectLock(_ period: String) -> [UInt8] {
        Array("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode>\(period)</DefaultRetention></Rule></ObjectLockConfiguration>".utf8)
    }

    @Test(arguments: [
        Case.error("Days 0", "<Days>0</Days>", .invalidArgument), .error("Days -1", "<Days>-1</Days>", .invalidArgument),
        .ok("Days 36500", "<Days>36500</Days>", 36_500), .error("Days 36501", "<Days>36501</Days>", .invalidRetentionPeriod),
        .error("Days Int64.max", "<Days>9223372036854775807</Days>", .invalidRetentionPeriod),
        .error("Days Int64.min", "<Days>-9223372036854775808</Days>", .invalidArgument),
        .error("Days of 20 digits", "<Days>\(digits20)</Days>", .malformedXML),
        .error("Days of 40 digits", "<Days>\(digits40)</Days>", .malformedXML),
        .ok("Years 100", "<Years>100</Years>", 100), .error("Years 101", "<Years>101</Years>", .invalidRetentionPeriod),
        .error("Years Int64.max", "<Years>9223372036854775807</Years>", .invalidRetentionPeriod),
        .error("Years of 40 digits", "<Years>\(digits40)</Years>", .malformedXML),
    ])
    func defaultRetention(_ c: Case) {
        Self.check(c) { text in
            let retention = try ObjectLockXML.parseConfiguration(Self.objectLock(text)).defaultRetention
            // The longest default still gives a retain-until date that prints.
            if let until = retention?.retention(from: Date()).retainUntil { _ = HTTPDate.iso8601(until) }
            return Int64(retention?.days ?? retention?.years ?? -1)
        }
    }

    @Test(arguments: [
        Case.ok("1", "1", 1), .ok("Int64.max, refused later as InvalidArgument", "9223372036854775807", Int64.max),
        .error("20 digits", digits20, .malformedXML), .error("40 digits", digits40, .malformedXML),
        .error("empty", "", .malformedXML),
    ])
    func completeMultipartUploadPartNumber(_ c: Case) {
        Self.check(c) { text in
            let parts = try CompleteMultipartUploadXML.parse(Array("<CompleteMultipartUpload><Part><PartNumber>\(text)</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>".utf8))
            return Int64(parts[0].number)
        }
    }
}
