import Foundation
import ObjectStore
import Testing

@testable import S3API
@testable import S3Wire

@Suite("Lifecycle configuration")
struct LifecycleXMLTests {
    private func parse(_ rules: String) throws -> LifecycleConfiguration {
        try LifecycleXML.parse(Array("<LifecycleConfiguration>\(rules)</LifecycleConfiguration>".utf8))
    }

    private func code(_ rules: String) -> S3ErrorCode? {
        s3ErrorCode { try parse(rules) }
    }

    @Test("every filter form and action parses, and writes back in the same shape")
    func roundTrip() throws {
        let configuration = try parse("""
            <Rule><ID>temp</ID><Filter><Prefix>temp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule>
            <Rule><ID>and</ID><Filter><And><Prefix>q/</Prefix><Tag><Key>a</Key><Value>b</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter>
              <Status>Disabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>
              <NoncurrentVersionExpiration><NoncurrentDays>5</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>
            <Rule><ID>legacy</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>
              <AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
            """)
        #expect(configuration.rules.map(\.id) == ["temp", "and", "legacy"])
        #expect(configuration.rules[0].filter == LifecycleFilter(form: .single, prefix: "temp/"))
        #expect(configuration.rules[1].filter == LifecycleFilter(form: .and, prefix: "q/", tags: [ObjectTag(key: "a", value: "b")], sizeGreaterThan: 10))
        #expect(configuration.rules[1].enabled == false)
        #expect(configuration.rules[1].noncurrentExpiration == .init(noncurrentDays: 5, newerNoncurrentVersions: 2))
        #expect(configuration.rules[2].expiration?.date == Date(timeIntervalSince1970: 1_893_456_000))
        #expect(configuration.rules[2].abortIncompleteUploadDays == 3)

        var xml = XMLWriter()
        LifecycleXML.write(configuration, into: &xml)
        let body = xml.text.drop { $0 != "<" }.dropFirst().drop { $0 != "<" }
        #expect(try LifecycleXML.parse(Array(String(body).utf8)) == configuration)
    }

    @Test("S3's checks", arguments: [
        ("", S3ErrorCode.malformedXML),
        ("<Rule><Filter/><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule>", .malformedXML),
        ("<Rule><Filter/><Status>Enabled</Status></Rule>", .invalidRequest),
        ("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>", .invalidArgument),
        ("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>", .malformedXML),
        ("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration></Rule>", .invalidArgument),
        ("<Rule><Prefix>a</Prefix><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>", .malformedXML),
        ("<Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>", .malformedXML),
        ("<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
            + "<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>", .invalidArgument),
        ("<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>"
            + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>", .invalidRequest),
        ("<Rule><Filter/><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>STANDARD</StorageClass></Transition></Rule>", .malformedXML),
    ])
    func refusals(rules: String, expected: S3ErrorCode) {
        #expect(code(rules) == expected)
    }

    @Test("more than 1,000 rules are refused")
    func tooManyRules() {
        let rule = { (i: Int) in "<Rule><ID>r\(i)</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>" }
        #expect(code((0..<1000).map(rule).joined()) == nil)
        #expect(code((0..<1001).map(rule).joined()) == .invalidArgument)
    }

    @Test("a real day rounds up to the next midnight UTC; a shortened day does not round")
    func clock() {
        let start = Date(timeIntervalSince1970: 1_700_000_000)  // 2023-11-14 22:13:20 UTC
        #expect(LifecycleClock().due(after: start, days: 7) == Date(timeIntervalSince1970: 1_700_611_200))  // 2023-11-22 00:00
        #expect(LifecycleClock(daySeconds: 2).due(after: start, days: 7) == start.addingTimeInterval(14))
    }

    @Test("x-amz-expiration comes from the earliest enabled rule whose filter matches")
    func expiration() throws {
        let configuration = try parse("""
            <Rule><ID>late</ID><Filter/><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>
            <Rule><ID>temp</ID><Filter><Prefix>temp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule>
            <Rule><ID>off</ID><Filter/><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
            <Rule><ID>big</ID><Filter><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>
            """)
        func record(_ key: String, size: Int64) -> ObjectRecord {
            ObjectRecord(bucket: "b", key: key, size: size, etag: "e", lastModified: Date(timeIntervalSince1970: 0),
                         metadata: ObjectMetadata(), checksum: nil, segments: [])
        }
        let clock = LifecycleClock(daySeconds: 1)
        #expect(configuration.expiration(of: record("temp/a", size: 1), clock: clock)?.ruleID == "temp")
        #expect(configuration.expiration(of: record("other", size: 1), clock: clock)?.ruleID == "late")
        #expect(configuration.expiration(of: record("temp/a", size: 101), clock: clock)?.ruleID == "big")
    }
}
