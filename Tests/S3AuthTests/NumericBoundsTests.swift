import Foundation
import NIOCore
@testable import S3Auth
import Testing

/// Every number a request gives the authentication layer, at its extremes: each either parses to a value in
/// range or is refused with S3's error, and none traps (issue 24: one Date header ended the process).
@Suite("Numeric bounds: dates and integers the authenticator reads")
struct AuthNumericBoundsTests {
    /// A named input and what the parser must make of it: the epoch seconds, or nil for a refusal.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let epoch: Double?
        var testDescription: String { name }
    }

    static let digits20 = "12345678901234567890"
    static let digits40 = digits20 + digits20
    /// 9999-12-31T23:59:59Z, the last second a four-digit year can name.
    static let lastSecond = 253_402_300_799.0

    static let httpDates: [Case] = [
        Case(name: "the date of issue 24's crash, year 435283332026", text: "Fri, 04 Dec 435283332026 04:46:44 GMT", epoch: nil),
        Case(name: "year 0 (before 1970)", text: "Sat, 01 Jan 0000 00:00:00 GMT", epoch: nil),
        Case(name: "year 9999", text: "Fri, 31 Dec 9999 23:59:59 GMT", epoch: lastSecond),
        Case(name: "year 9999 less a zone offset", text: "Fri, 31 Dec 9999 23:59:59 +2359", epoch: lastSecond - 86_340),
        Case(name: "year 10000", text: "Sat, 01 Jan 10000 00:00:00 GMT", epoch: nil),
        Case(name: "year 10^12", text: "Fri, 01 Jan 1000000000000 00:00:00 GMT", epoch: nil),
        Case(name: "year Int64.max", text: "Fri, 01 Jan 9223372036854775807 00:00:00 GMT", epoch: nil),
        Case(name: "year Int64.min", text: "Fri, 01 Jan -9223372036854775808 00:00:00 GMT", epoch: nil),
        Case(name: "year of 20 digits", text: "Fri, 01 Jan \(digits20) 00:00:00 GMT", epoch: nil),
        Case(name: "year of 40 digits", text: "Fri, 01 Jan \(digits40) 00:00:00 GMT", epoch: nil),
        Case(name: "year -1", text: "Fri, 01 Jan -1 00:00:00 GMT", epoch: nil),
        Case(name: "day 0", text: "Fri, 00 Jan 2013 00:00:00 GMT", epoch: nil),
        Case(name: "day -1", text: "Fri, -1 Jan 2013 00:00:00 GMT", epoch: nil),
        Case(name: "day Int64.max", text: "Fri, 9223372036854775807 Jan 2013 00:00:00 GMT", epoch: nil),
        Case(name: "hour of 20 digits", text: "Fri, 24 May 2013 \(digits20):00:00 GMT", epoch: nil),
        Case(name: "minute Int64.min", text: "Fri, 24 May 2013 00:-9223372036854775808:00 GMT", epoch: nil),
        Case(name: "second of 40 digits", text: "Fri, 24 May 2013 00:00:\(digits40) GMT", epoch: nil),
        Case(name: "a signed hour", text: "Fri, 24 May 2013 +1:00:00 GMT", epoch: nil),
        Case(name: "an ordinary date", text: "Fri, 24 May 2013 00:00:00 GMT", epoch: 1_369_353_600),
    ]

    @Test(arguments: httpDates)
    func httpDate(_ c: Case) {
        #expect(AWSDate.parseHTTPDate(c.text)?.timeIntervalSince1970 == c.epoch)
    }

    static let basicDates: [Case] = [
        Case(name: "year 0", text: "00000101T000000Z", epoch: -62_167_219_200),
        Case(name: "year 9999", text: "99991231T235959Z", epoch: lastSecond),
        Case(name: "year 10000", text: "100000101T000000Z", epoch: nil),
        Case(name: "year 10^12", text: "10000000000000101T000000Z", epoch: nil),
        Case(name: "20 digits", text: digits20, epoch: nil),
        Case(name: "40 digits", text: digits40, epoch: nil),
        Case(name: "a minus sign in the year", text: "-0010101T000000Z", epoch: nil),
        Case(name: "epoch", text: "19700101T000000Z", epoch: 0),
    ]

    @Test(arguments: basicDates)
    func iso8601Basic(_ c: Case) {
        #expect(AWSDate.parseISO8601Basic(c.text)?.timeIntervalSince1970 == c.epoch)
    }

    static let extendedDates: [Case] = [
        Case(name: "year 0", text: "0000-01-01T00:00:00Z", epoch: -62_167_219_200),
        Case(name: "year 9999", text: "9999-12-31T23:59:59Z", epoch: lastSecond),
        Case(name: "year 10000", text: "10000-01-01T00:00:00Z", epoch: nil),
        Case(name: "year 10^12", text: "1000000000000-01-01T00:00:00Z", epoch: nil),
        // The fraction's digits are only checked: a long run must neither overflow nor be refused.
        Case(name: "a 20-digit fraction", text: "2013-05-24T00:00:00.\(digits20)Z", epoch: 1_369_353_600),
        Case(name: "a 40-digit fraction", text: "2013-05-24T00:00:00.\(digits40)Z", epoch: 1_369_353_600),
        Case(name: "a negative fraction", text: "2013-05-24T00:00:00.-1Z", epoch: nil),
        Case(name: "Int64.max as the year", text: "9223372036854775807-01-01T00:00:00Z", epoch: nil),
    ]

    @Test(arguments: extendedDates)
    func iso8601Extended(_ c: Case) {
        #expect(AWSDate.parseISO8601Extended(c.text)?.timeIntervalSince1970 == c.epoch)
    }

    struct Printed: CustomTestStringConvertible, Sendable {
        let name: String
        let seconds: Double
        let extended: String
        var testDescription: String { name }
    }

    /// Printing clamps to years 0 to 9999: what an error document shows for an absurd Expires.
    @Test(arguments: [
        Printed(name: "0", seconds: 0, extended: "1970-01-01T00:00:00Z"),
        Printed(name: "-1", seconds: -1, extended: "1969-12-31T23:59:59Z"),
        Printed(name: "Int64.max", seconds: Double(Int64.max), extended: "9999-12-31T23:59:59Z"),
        Printed(name: "Int64.min", seconds: Double(Int64.min), extended: "0000-01-01T00:00:00Z"),
        Printed(name: "1e40", seconds: 1e40, extended: "9999-12-31T23:59:59Z"),
        Printed(name: "infinity", seconds: .infinity, extended: "9999-12-31T23:59:59Z"),
        Printed(name: "-infinity", seconds: -.infinity, extended: "0000-01-01T00:00:00Z"),
        Printed(name: "NaN", seconds: .nan, extended: "1970-01-01T00:00:00Z"),
        Printed(name: "the last second of 9999", seconds: lastSecond, extended: "9999-12-31T23:59:59Z"),
    ])
    func printsClamped(_ p: Printed) {
        let date = Date(timeIntervalSince1970: p.seconds)
        #expect(AWSDate.iso8601Extended(date) == p.extended)
        #expect(AWSDate.iso8601Basic(date).count == 16)
    }

    // MARK: - The requests of issue 24, through the authenticator

    struct Request: CustomTestStringConvertible, Sendable {
        let name: String
        let headers: [(String, String)]
        let code: AuthFailure.Code
        var testDescription: String { name }
    }

    static let crashDate = "Fri, 04 Dec 435283332026 04:46:44 GMT"
    static let v4Authorization = "AWS4-HMAC-SHA256 Credential=\(Example.accessKey)/20130524/us-east-1/s3/aws4_request, "
        + "SignedHeaders=date;host, Signature=" + String(repeating: "0", count: 64)

    static let requests: [Request] = [
        Request(name: "SigV2 with the crashing Date", headers: [("Date", crashDate), ("Authorization", "AWS \(Example.accessKey):x")],
                code: .accessDenied),
        Request(name: "SigV4 without x-amz-date, with the crashing Date", headers: [
            ("Date", crashDate), ("x-amz-content-sha256", Example.emptySHA256), ("Authorization", v4Authorization),
        ], code: .accessDenied),
        Request(name: "SigV2 with x-amz-date of year 10000", headers: [
            ("x-amz-date", "Sat, 01 Jan 10000 00:00:00 GMT"), ("Authorization", "AWS \(Example.accessKey):x"),
        ], code: .accessDenied),
        Request(name: "SigV2 with year 9999: too skewed, not a crash", headers: [
            ("Date", "Fri, 31 Dec 9999 23:59:59 GMT"), ("Authorization", "AWS \(Example.accessKey):x"),
        ], code: .requestTimeTooSkewed),
        Request(name: "SigV2 with year 0: no valid date", headers: [
            ("Date", "Sat, 01 Jan 0000 00:00:00 GMT"), ("Authorization", "AWS \(Example.accessKey):x"),
        ], code: .accessDenied),
        Request(name: "SigV4 with x-amz-date of year 9999", headers: [
            ("x-amz-date", "99991231T235959Z"), ("x-amz-content-sha256", Example.emptySHA256),
            ("Authorization", v4Authorization.replacingOccurrences(of: "20130524", with: "99991231")),
        ], code: .requestTimeTooSkewed),
        Request(name: "SigV2 with a valid date and a bad signature", headers: [
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Authorization", "AWS \(Example.accessKey):x"),
        ], code: .signatureDoesNotMatch),
    ]

    @Test(arguments: requests)
    func headerAuthentication(_ r: Request) {
        let parts = HTTPRequestParts(
            method: "GET", rawPath: "/any/key", rawQuery: "",
            headers: ([("Host", "s3.amazonaws.com")] + r.headers).map { (name: $0.0, value: $0.1) })
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(parts, now: Example.awsDocTime) }
        #expect(error?.code == r.code)
    }

    struct Query: CustomTestStringConvertible, Sendable {
        let name: String
        let query: String
        let code: AuthFailure.Code
        var testDescription: String { name }
    }

    static func v2Query(expires: String) -> String {
        "AWSAccessKeyId=\(Example.accessKey)&Expires=\(expires)&Signature=x"
    }

    static func v4Query(date: String = "20130524T000000Z", expires: String) -> String {
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\(Example.accessKey)%2F\(date.prefix(8))%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=\(date)&X-Amz-Expires=\(expires)&X-Amz-SignedHeaders=host&X-Amz-Signature=" + String(repeating: "0", count: 64)
    }

    static let queries: [Query] = [
        Query(name: "V2 Expires 0: long past", query: v2Query(expires: "0"), code: .accessDenied),
        Query(name: "V2 Expires -1", query: v2Query(expires: "-1"), code: .accessDenied),
        Query(name: "V2 Expires Int64.min", query: v2Query(expires: "-9223372036854775808"), code: .accessDenied),
        Query(name: "V2 Expires Int64.max: not expired, so the signature decides", query: v2Query(expires: "9223372036854775807"),
              code: .signatureDoesNotMatch),
        Query(name: "V2 Expires of 20 digits", query: v2Query(expires: digits20), code: .accessDenied),
        Query(name: "V2 Expires of 40 digits", query: v2Query(expires: digits40), code: .accessDenied),
        Query(name: "X-Amz-Expires 0", query: v4Query(expires: "0"), code: .signatureDoesNotMatch),
        Query(name: "X-Amz-Expires -1", query: v4Query(expires: "-1"), code: .authorizationQueryParametersError),
        Query(name: "X-Amz-Expires 604801", query: v4Query(expires: "604801"), code: .authorizationQueryParametersError),
        Query(name: "X-Amz-Expires Int64.max", query: v4Query(expires: "9223372036854775807"), code: .authorizationQueryParametersError),
        Query(name: "X-Amz-Expires Int64.min", query: v4Query(expires: "-9223372036854775808"), code: .authorizationQueryParametersError),
        Query(name: "X-Amz-Expires of 20 digits", query: v4Query(expires: digits20), code: .authorizationQueryParametersError),
        Query(name: "X-Amz-Expires of 40 digits", query: v4Query(expires: digits40), code: .authorizationQueryParametersError),
        Query(name: "X-Amz-Date of year 9999", query: v4Query(date: "99991231T235959Z", expires: "60"), code: .accessDenied),
        Query(name: "X-Amz-Date of year 0", query: v4Query(date: "00000101T000000Z", expires: "604800"), code: .accessDenied),
        Query(name: "X-Amz-Date of year 10000", query: v4Query(date: "100000101T000000Z", expires: "60"),
              code: .authorizationQueryParametersError),
    ]

    @Test(arguments: queries)
    func queryAuthentication(_ q: Query) {
        let parts = HTTPRequestParts(
            method: "GET", rawPath: "/any/key", rawQuery: q.query, headers: [(name: "Host", value: "s3.amazonaws.com")])
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(parts, now: Example.awsDocTime) }
        #expect(error?.code == q.code)
    }

    // MARK: - Lengths

    struct Length: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let accepted: Bool
        var testDescription: String { name }
    }

    static let lengths: [Length] = [
        Length(name: "0", text: "0", accepted: true),
        Length(name: "-1", text: "-1", accepted: false),
        Length(name: "Int64.max", text: "9223372036854775807", accepted: true),
        Length(name: "Int64.min", text: "-9223372036854775808", accepted: false),
        Length(name: "20 digits", text: digits20, accepted: false),
        Length(name: "40 digits", text: digits40, accepted: false),
    ]

    @Test(arguments: lengths)
    func decodedContentLength(_ l: Length) {
        let parts = HTTPRequestParts(
            method: "PUT", rawPath: "/b/k", rawQuery: "",
            headers: [("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("x-amz-decoded-content-length", l.text)]
                .map { (name: $0.0, value: $0.1) })
        let error = failure { () throws(AuthFailure) in try PayloadMode.unsignedVerification(for: parts) }
        #expect(error == nil ? l.accepted : error?.code == .invalidArgument && !l.accepted)
    }

    /// Chunk sizes in hex: at most 16 digits and at most the chunk limit; the sum is checked against the
    /// declared length before it is added, so no size can overflow it.
    @Test(arguments: [
        Length(name: "0 (the last chunk)", text: "0", accepted: true),
        Length(name: "-1", text: "-1", accepted: false),
        Length(name: "Int64.max in hex", text: "7fffffffffffffff", accepted: false),
        Length(name: "UInt64.max in hex", text: "ffffffffffffffff", accepted: false),
        Length(name: "20 hex digits", text: "fffffffffffffffffff0", accepted: false),
        Length(name: "40 hex digits", text: String(repeating: "f", count: 40), accepted: false),
    ])
    func chunkSize(_ l: Length) {
        var decoder = AWSChunkedDecoder(config: AWSChunkedConfig(
            signing: nil, trailerNames: [], signedTrailer: false, decodedContentLength: nil))
        var buffer = ByteBuffer()
        buffer.writeString(l.text + "\r\n\r\n")
        let error = failure { () throws(AuthFailure) in
            _ = try decoder.decode(buffer)
            return try decoder.finish()
        }
        #expect(l.accepted ? error == nil : error?.code == .invalidChunkSizeError)
    }

    // MARK: - POST policies

    static func policy(expiration: String, range: (String, String) = ("0", "10")) -> String {
        let json = #"{"expiration": "\#(expiration)", "conditions": [["content-length-range", \#(range.0), \#(range.1)]]}"#
        return Data(json.utf8).base64EncodedString()
    }

    @Test(arguments: [
        Case(name: "expiration year 0", text: "0000-01-01T00:00:00Z", epoch: -62_167_219_200),
        Case(name: "expiration year 9999", text: "9999-12-31T23:59:59.999Z", epoch: lastSecond),
        Case(name: "expiration year 10000", text: "10000-01-01T00:00:00Z", epoch: nil),
        Case(name: "expiration year 10^12", text: "1000000000000-01-01T00:00:00Z", epoch: nil),
        Case(name: "expiration with a 40-digit fraction", text: "2030-01-01T00:00:00.\(digits40)Z", epoch: 1_893_456_000),
    ])
    func postPolicyExpiration(_ c: Case) {
        let parsed = try? PostPolicy.parse(base64: Self.policy(expiration: c.text))
        #expect(parsed?.expiration.timeIntervalSince1970 == c.epoch)
    }

    @Test(arguments: [
        Length(name: "0 to 0", text: "0", accepted: true),
        Length(name: "-1", text: "-1", accepted: false),
        Length(name: "10^15 - 1", text: "999999999999999", accepted: true),
        Length(name: "Int64.min", text: "-9223372036854775808", accepted: false),
        Length(name: "20 digits", text: digits20, accepted: false),
        Length(name: "40 digits", text: digits40, accepted: false),
    ])
    func postPolicyLengthRange(_ l: Length) {
        let parsed = try? PostPolicy.parse(base64: Self.policy(expiration: "2030-01-01T00:00:00Z", range: ("0", l.text)))
        #expect((parsed?.lengthLimits?.maximum).map(String.init) == (l.accepted ? l.text : nil))
    }

    /// JSON numbers are doubles: Int64.max arrives rounded to 2^63, which must be refused or kept exact, not
    /// converted with a trap.
    @Test func postPolicyLengthRangeInt64Max() {
        let parsed = try? PostPolicy.parse(base64: Self.policy(expiration: "2030-01-01T00:00:00Z", range: ("0", "9223372036854775807")))
        #expect(parsed == nil || parsed?.lengthLimits?.maximum == Int64.max)
    }
}
