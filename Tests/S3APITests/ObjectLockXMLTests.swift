import Foundation
import HTTPTypes
import ObjectStore
import Testing

@testable import S3API
@testable import S3Wire

@Suite("Object lock documents and headers")
struct ObjectLockXMLTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func configuration(_ rule: String, enabled: String = "<ObjectLockEnabled>Enabled</ObjectLockEnabled>") throws -> ObjectLockConfiguration {
        try ObjectLockXML.parseConfiguration(Array("<ObjectLockConfiguration>\(enabled)\(rule)</ObjectLockConfiguration>".utf8))
    }

    private func retention(_ body: String) throws -> ObjectRetention? {
        try ObjectLockXML.parseRetention(Array("<Retention>\(body)</Retention>".utf8), now: Self.now)
    }

    private func request(_ fields: [String: String]) throws -> ObjectLockXML.Request {
        var headers = HTTPFields()
        for (name, value) in fields { headers[HTTPField.Name(name)!] = value }
        return try ObjectLockXML.request(from: headers, now: Self.now)
    }

    @Test("a configuration parses with Days or Years, or without a rule, and writes back the same")
    func configurationRoundTrip() throws {
        #expect(try configuration("") == ObjectLockConfiguration())
        let days = try configuration("<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule>")
        #expect(days.defaultRetention == DefaultRetention(mode: .governance, days: 3))
        let years = try configuration("<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>100</Years></DefaultRetention></Rule>")
        #expect(years.defaultRetention == DefaultRetention(mode: .compliance, years: 100))
        var xml = XMLWriter()
        ObjectLockXML.write(days, into: &xml)
        let body = xml.text.drop { $0 != "<" }.dropFirst().drop { $0 != "<" }
        #expect(try ObjectLockXML.parseConfiguration(Array(String(body).utf8)) == days)
    }

    @Test("a bad configuration gets S3's codes")
    func configurationErrors() {
        func code(_ rule: String, enabled: String = "<ObjectLockEnabled>Enabled</ObjectLockEnabled>") -> S3ErrorCode? {
            s3ErrorCode { try configuration(rule, enabled: enabled) }
        }
        let retention = { (inner: String) in "<Rule><DefaultRetention>\(inner)</DefaultRetention></Rule>" }
        #expect(code("", enabled: "") == .malformedXML)
        #expect(code("", enabled: "<ObjectLockEnabled>Disabled</ObjectLockEnabled>") == .malformedXML)
        #expect(code("<Rule></Rule>") == .malformedXML)
        #expect(code(retention("<Mode>STRICT</Mode><Days>1</Days>")) == .malformedXML)
        #expect(code(retention("<Mode>GOVERNANCE</Mode>")) == .malformedXML)
        #expect(code(retention("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>")) == .malformedXML)
        #expect(code(retention("<Mode>GOVERNANCE</Mode><Days>0</Days>")) == .invalidArgument)
        #expect(code(retention("<Mode>GOVERNANCE</Mode><Years>-1</Years>")) == .invalidArgument)
        #expect(code(retention("<Mode>GOVERNANCE</Mode><Days>36501</Days>")) == .invalidRetentionPeriod)
        #expect(code(retention("<Mode>GOVERNANCE</Mode><Years>101</Years>")) == .invalidRetentionPeriod)
    }

    @Test("a Retention document parses, an empty one removes, and a past or malformed one is refused")
    func retentionDocument() throws {
        #expect(try retention("<Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate>")
            == ObjectRetention(mode: .compliance, retainUntil: Date(timeIntervalSince1970: 1_893_456_000)))
        #expect(try retention("") == nil)
        #expect(s3ErrorCode { try retention("<Mode>COMPLIANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate>") } == .invalidArgument)
        #expect(s3ErrorCode { try retention("<Mode>LOOSE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>") } == .malformedXML)
        #expect(s3ErrorCode { try retention("<Mode>GOVERNANCE</Mode>") } == .malformedXML)
        #expect(try ObjectLockXML.parseLegalHold(Array("<LegalHold><Status>ON</Status></LegalHold>".utf8)))
        #expect(s3ErrorCode { try ObjectLockXML.parseLegalHold(Array("<LegalHold><Status>on</Status></LegalHold>".utf8)) } == .malformedXML)
    }

    @Test("write headers: both of mode and date or neither, a future date, ON or OFF")
    func writeHeaders() throws {
        let until = "2030-01-01T00:00:00Z"
        let full = try request([
            "x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": until, "x-amz-object-lock-legal-hold": "OFF",
        ])
        #expect(full.retention == ObjectRetention(mode: .governance, retainUntil: Date(timeIntervalSince1970: 1_893_456_000)))
        #expect(full.legalHold == false)
        #expect(try request([:]).isEmpty)
        #expect(s3ErrorCode { try request(["x-amz-object-lock-mode": "GOVERNANCE"]) } == .invalidArgument)
        #expect(s3ErrorCode { try request(["x-amz-object-lock-retain-until-date": until]) } == .invalidArgument)
        #expect(s3ErrorCode { try request(["x-amz-object-lock-mode": "X", "x-amz-object-lock-retain-until-date": until]) } == .invalidArgument)
        #expect(s3ErrorCode { try request(["x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "2001-01-01T00:00:00Z"]) } == .invalidArgument)
        #expect(s3ErrorCode { try request(["x-amz-object-lock-legal-hold": "YES"]) } == .invalidArgument)
        #expect(s3ErrorCode { try full.validate(for: nil) } == .invalidRequest)
    }

    @Test("a new version takes the request's settings, else the bucket default, never a source's")
    func applyToVersion() throws {
        let bucket = ObjectLockConfiguration(defaultRetention: DefaultRetention(mode: .governance, days: 1))
        var copied = ObjectMetadata()
        copied.retention = ObjectRetention(mode: .compliance, retainUntil: Self.now.addingTimeInterval(1e6))
        copied.legalHold = true
        try request([:]).apply(to: &copied, bucket: bucket, created: Self.now)
        #expect(copied.retention == ObjectRetention(mode: .governance, retainUntil: Self.now.addingTimeInterval(86_400)))
        #expect(copied.legalHold == nil)
        try request([:]).apply(to: &copied, bucket: nil, created: Self.now)
        #expect(copied.retention == nil)
        var held = ObjectMetadata()
        try request(["x-amz-object-lock-legal-hold": "ON"]).apply(to: &held, bucket: bucket, created: Self.now)
        #expect(held.legalHold == true)
        #expect(held.retention?.mode == .governance)
    }
}
