import Foundation
import HTTPTypes
import NIOCore
import S3Auth
import S3Wire

/// `numeric-headers`: every parser of a date or an integer a request carries (issue 24: one Date header of year
/// 435283332026 overflowed the calendar arithmetic and ended the process). Besides "no trap", each parse is
/// checked against its contract, so a value that slips past a bound is a finding too.
extension FuzzTarget {
    /// The first byte picks the parser; the rest, as text, is the header or query value.
    static func numericHeaders(_ data: [UInt8]) {
        guard let selector = data.first else { return }
        let text = String(decoding: data.dropFirst(), as: UTF8.self)
        switch selector % 8 {
        case 0: authDates(text)
        case 1: presignedNumbers(text)
        case 2: httpDates(text)
        case 3: iso8601Dates(text)
        case 4: ranges(text, size: Int64(selector >> 3))
        case 5: counts(text)
        case 6: postPolicyNumbers(text)
        default: printedDates(Array(data.dropFirst()))
        }
    }

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: every date a parser returns lies between, give or take a
    /// zone offset of under a day.
    static let earliestDate = Date(timeIntervalSince1970: -62_167_219_200 - 86_400)
    static let latestDate = Date(timeIntervalSince1970: 253_402_300_799 + 86_400)

    static func inDateRange(_ date: Date) -> Bool {
        date >= earliestDate && date <= latestDate
    }

    /// Date and x-amz-date under SigV2 and under SigV4 without x-amz-date, with a known access key and a bad
    /// signature: the requests of issue 24.
    static func authDates(_ text: String) {
        let v4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=date;host, Signature="
            + String(repeating: "0", count: 64)
        let headerSets: [[(name: String, value: String)]] = [
            [("date", text), ("authorization", "AWS AKIDEXAMPLE:x")],
            [("x-amz-date", text), ("authorization", "AWS AKIDEXAMPLE:x")],
            [("date", text), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("authorization", v4)],
            [("x-amz-date", text), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("authorization", v4)],
        ]
        for headers in headerSets {
            let parts = HTTPRequestParts(
                method: "GET", rawPath: "/any/key", rawQuery: "", headers: [("host", "example.com")] + headers,
                sigV2ResourcePath: nil)
            _ = try? authenticator.authenticate(parts, now: now)
        }
    }

    /// X-Amz-Date and X-Amz-Expires of a presigned SigV4 URL, and Expires of a SigV2 one.
    static func presignedNumbers(_ text: String) {
        let value = Percent.encode(text, keepSlash: false)
        let queries = [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=\(value)&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F\(value.prefix(8))%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=\(value)&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
            "AWSAccessKeyId=AKIDEXAMPLE&Expires=\(value)&Signature=x",
        ]
        for query in queries {
            let parts = HTTPRequestParts(
                method: "GET", rawPath: "/any/key", rawQuery: query, headers: [("host", "example.com")], sigV2ResourcePath: nil)
            _ = try? authenticator.authenticate(parts, now: now)
        }
    }

    /// If-(Un)Modified-Since and their copy-source forms: a parsed date is in range and prints back to itself.
    static func httpDates(_ text: String) {
        guard let date = HTTPDate.parse(text) else { return }
        precondition(inDateRange(date), "HTTPDate.parse returned \(date.timeIntervalSince1970) for \(text)")
        let printed = HTTPDate.rfc1123(date)
        precondition(HTTPDate.parse(printed) == date, "\(printed) does not parse back to \(date.timeIntervalSince1970)")
        _ = try? Preconditions(ifModifiedSince: date, ifUnmodifiedSince: date).evaluate(etag: "e", lastModified: Date(timeIntervalSince1970: 0))
    }

    /// x-amz-object-lock-retain-until-date, RetainUntilDate and lifecycle Date.
    static func iso8601Dates(_ text: String) {
        if let date = HTTPDate.parseISO8601(text) {
            precondition(inDateRange(date), "HTTPDate.parseISO8601 returned \(date.timeIntervalSince1970) for \(text)")
            _ = HTTPDate.iso8601(date)
        }
        var headers = HTTPFields()
        headers[.amzObjectLockMode] = "GOVERNANCE"
        if let field = HTTPField.Name("x-amz-object-lock-retain-until-date"), !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            headers[field] = text
            if let retention = try? ObjectLockXML.request(from: headers, now: now).retention {
                precondition(inDateRange(retention.retainUntil))
            }
        }
    }

    /// Range and x-amz-copy-source-range against an object of `size` bytes (0 to 31): what they give lies inside it.
    static func ranges(_ text: String, size: Int64) {
        if let range = try? ByteRange.parse(text, size: size) {
            precondition(range.lowerBound >= 0 && range.upperBound <= size && !range.isEmpty, "Range \(text) gave \(range)")
        }
        if let range = try? RequestNumber.copySourceRange(text, size: size) {
            precondition(range.lowerBound >= 0 && range.upperBound <= size, "copy range \(text) gave \(range)")
        }
    }

    /// max-keys and the other counts, part numbers and markers, Content-Length and x-amz-mp-object-size.
    static func counts(_ text: String) {
        if let count = try? RequestNumber.count(text, name: "max-keys", limit: 1000) {
            precondition((0...1000).contains(count))
        }
        if let marker = try? RequestNumber.partNumberMarker(text, name: "part-number-marker") {
            precondition(marker >= 0 && marker <= Int(Int32.max))
        }
        if let number = try? RequestNumber.partNumber(text) {
            precondition(RequestNumber.partNumbers.contains(number))
        }
        if let length = try? RequestNumber.length(text, name: "Content-Length") {
            precondition(length >= 0)
        }
        let parts = HTTPRequestParts(
            method: "PUT", rawPath: "/b/k", rawQuery: "",
            headers: [("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("x-amz-decoded-content-length", text),
                      ("x-amz-date", "20150830T123600Z"), ("authorization", "AWS AKIDEXAMPLE:x")],
            sigV2ResourcePath: nil)
        _ = try? authenticator.authenticate(parts, now: now)
        // An aws-chunked chunk-size line.
        var decoder = AWSChunkedDecoder(config: AWSChunkedConfig(
            signing: nil, trailerNames: [], signedTrailer: false, decodedContentLength: Int64.max))
        var buffer = ByteBuffer()
        buffer.writeString(text + "\r\n")
        _ = try? decoder.decode(buffer)
    }

    /// A POST policy's expiration and content-length-range bounds.
    static func postPolicyNumbers(_ text: String) {
        let quoted = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let documents = [
            #"{"expiration": "\#(quoted)", "conditions": []}"#,
            #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0, \#(text)]]}"#,
        ]
        for document in documents {
            guard let policy = try? PostPolicy.parse(base64: Data(document.utf8).base64EncodedString()) else { continue }
            if let limits = policy.lengthLimits { precondition(limits.minimum >= 0 && limits.maximum >= 0) }
            _ = try? policy.check(fields: ["key": "k"], now: now)
        }
    }

    /// Any 64-bit pattern as a stored date (NaN, infinities, year 10^12): printing clamps and never traps.
    static func printedDates(_ bytes: [UInt8]) {
        guard bytes.count >= 8 else { return }
        let bits = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let date = Date(timeIntervalSince1970: Double(bitPattern: bits))
        let printed = HTTPDate.rfc1123(date)
        precondition(HTTPDate.parse(printed).map(inDateRange) ?? false, "\(printed) does not parse back")
        _ = HTTPDate.iso8601(date)
    }
}
