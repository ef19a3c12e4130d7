import ObjectStore
import S3Wire
import Testing

@Suite("Bucket notifications: the configuration document, its validation, and which events a rule takes")
struct NotificationXMLTests {
    static let arn = "arn:martlet:sqs:us-east-1:hook:webhook"
    static let known: Set<String> = [arn]

    struct Invalid: CustomTestStringConvertible, Sendable {
        let name: String
        let document: String
        let code: S3ErrorCode
        var testDescription: String { name }
    }

    static func queue(_ id: String, events: [String], filter: String = "", arn: String = arn) -> String {
        "<QueueConfiguration><Id>\(id)</Id><Queue>\(arn)</Queue>\(events.map { "<Event>\($0)</Event>" }.joined())"
            + (filter.isEmpty ? "" : "<Filter><S3Key>\(filter)</S3Key></Filter>") + "</QueueConfiguration>"
    }

    static func rule(_ name: String, _ value: String) -> String { "<FilterRule><Name>\(name)</Name><Value>\(value)</Value></FilterRule>" }
    static func wrap(_ body: String) -> String { "<NotificationConfiguration>\(body)</NotificationConfiguration>" }

    static let invalid: [Invalid] = [
        Invalid(name: "a target the server does not have",
                document: wrap(queue("a", events: ["s3:ObjectCreated:*"], arn: "arn:martlet:sqs:us-east-1:x:webhook")), code: .invalidArgument),
        Invalid(name: "an event Martlet does not send", document: wrap(queue("a", events: ["s3:Replication:*"])), code: .invalidArgument),
        Invalid(name: "no event", document: wrap(queue("a", events: [])), code: .malformedXML),
        Invalid(name: "a filter rule that is neither prefix nor suffix",
                document: wrap(queue("a", events: ["s3:ObjectCreated:*"], filter: rule("middle", "x"))), code: .invalidArgument),
        Invalid(name: "two prefix rules",
                document: wrap(queue("a", events: ["s3:ObjectCreated:*"], filter: rule("prefix", "a") + rule("Prefix", "b"))), code: .invalidArgument),
        Invalid(name: "the same id twice",
                document: wrap(queue("a", events: ["s3:ObjectCreated:Put"]) + queue("a", events: ["s3:ObjectRemoved:*"])), code: .invalidArgument),
        Invalid(name: "a wildcard and one of its events, unfiltered",
                document: wrap(queue("a", events: ["s3:ObjectCreated:*"]) + queue("b", events: ["s3:ObjectCreated:Put"])), code: .invalidArgument),
        Invalid(name: "nested prefixes share keys",
                document: wrap(queue("a", events: ["s3:ObjectCreated:Put"], filter: rule("prefix", "img/"))
                               + queue("b", events: ["s3:ObjectCreated:Put"], filter: rule("prefix", "img/raw/"))), code: .invalidArgument),
        Invalid(name: "another root element", document: "<CORSConfiguration/>", code: .malformedXML),
    ]

    @Test(arguments: invalid)
    func invalidDocuments(_ test: Invalid) {
        do {
            _ = try NotificationXML.parse(Array(test.document.utf8), knownTargets: Self.known)
            Issue.record("parsed")
        } catch {
            #expect(error.code == test.code)
        }
    }

    struct Valid: CustomTestStringConvertible, Sendable {
        let name: String
        let document: String
        let rules: Int
        var testDescription: String { name }
    }

    static let valid: [Valid] = [
        Valid(name: "empty: notifications off", document: wrap(""), rules: 0),
        Valid(name: "one rule with both filters",
              document: wrap(queue("a", events: ["s3:ObjectCreated:*"], filter: rule("prefix", "in/") + rule("suffix", ".jpg"))), rules: 1),
        Valid(name: "same events, prefixes apart",
              document: wrap(queue("a", events: ["s3:ObjectCreated:*"], filter: rule("prefix", "a/"))
                             + queue("b", events: ["s3:ObjectCreated:*"], filter: rule("prefix", "b/"))), rules: 2),
        Valid(name: "same keys, events apart",
              document: wrap(queue("a", events: ["s3:ObjectCreated:*"]) + queue("b", events: ["s3:ObjectRemoved:*"])), rules: 2),
        Valid(name: "topic and cloud function elements",
              document: wrap("<TopicConfiguration><Topic>\(arn)</Topic><Event>s3:ObjectTagging:*</Event></TopicConfiguration>"
                             + "<CloudFunctionConfiguration><CloudFunction>\(arn)</CloudFunction><Event>s3:ObjectAcl:Put</Event></CloudFunctionConfiguration>"),
              rules: 2),
    ]

    @Test(arguments: valid)
    func validDocumentsRoundTrip(_ test: Valid) throws {
        let parsed = try NotificationXML.parse(Array(test.document.utf8), knownTargets: Self.known)
        #expect(parsed.rules.count == test.rules)
        #expect(parsed.rules.allSatisfy { !$0.id.isEmpty }, "a rule without an Id gets one")
        let written = Array(NotificationXML.write(parsed).text.utf8)
        #expect(try NotificationXML.parse(written, knownTargets: Self.known) == parsed)
    }

    struct Match: CustomTestStringConvertible, Sendable {
        let name: String
        let events: [String]
        let prefix: String?
        let suffix: String?
        let event: String
        let key: String
        let matches: Bool
        var testDescription: String { name }
    }

    static let matches: [Match] = [
        Match(name: "wildcard covers its family", events: ["s3:ObjectCreated:*"], prefix: nil, suffix: nil,
              event: "s3:ObjectCreated:CompleteMultipartUpload", key: "k", matches: true),
        Match(name: "wildcard stays in its family", events: ["s3:ObjectCreated:*"], prefix: nil, suffix: nil,
              event: "s3:ObjectRemoved:Delete", key: "k", matches: false),
        Match(name: "exact event", events: ["s3:ObjectRemoved:Delete"], prefix: nil, suffix: nil,
              event: "s3:ObjectRemoved:DeleteMarkerCreated", key: "k", matches: false),
        Match(name: "prefix and suffix both hold", events: ["s3:ObjectCreated:Put"], prefix: "img/", suffix: ".png",
              event: "s3:ObjectCreated:Put", key: "img/a.png", matches: true),
        Match(name: "suffix fails", events: ["s3:ObjectCreated:Put"], prefix: "img/", suffix: ".png",
              event: "s3:ObjectCreated:Put", key: "img/a.jpg", matches: false),
        Match(name: "filters are case-sensitive", events: ["s3:ObjectCreated:Put"], prefix: "IMG/", suffix: nil,
              event: "s3:ObjectCreated:Put", key: "img/a", matches: false),
    ]

    @Test(arguments: matches)
    func ruleMatching(_ test: Match) {
        let rule = NotificationRule(id: "r", kind: .queue, targetARN: Self.arn, events: test.events, prefix: test.prefix, suffix: test.suffix)
        #expect(rule.matches(eventName: test.event, key: test.key) == test.matches)
    }

    struct Change: CustomTestStringConvertible, Sendable {
        let name: String
        let change: IndexChange
        let origin: ChangeOrigin?
        let event: String?
        var testDescription: String { name }
    }

    static func record(deleteMarker: Bool = false) -> ObjectRecord {
        ObjectRecord(bucket: "b", key: "k", size: 1, etag: "\"e\"", lastModified: .now, metadata: ObjectMetadata(), checksum: nil,
                     segments: [], isDeleteMarker: deleteMarker)
    }

    static let origin = ChangeOrigin(requestID: "r", principalID: "p", sourceIP: "1.2.3.4")
    static let changes: [Change] = [
        Change(name: "a put", change: IndexChange(stored: record()), origin: origin, event: "s3:ObjectCreated:Put"),
        Change(name: "a copy", change: IndexChange(stored: record()),
               origin: ChangeOrigin(requestID: "r", principalID: "p", sourceIP: "", creation: .copy), event: "s3:ObjectCreated:Copy"),
        Change(name: "a delete", change: IndexChange(replaced: record()), origin: origin, event: "s3:ObjectRemoved:Delete"),
        Change(name: "a delete of nothing", change: IndexChange(), origin: origin, event: nil),
        Change(name: "a delete marker", change: IndexChange(replaced: record(), stored: record(deleteMarker: true)), origin: origin,
               event: "s3:ObjectRemoved:DeleteMarkerCreated"),
        Change(name: "a lifecycle expiration", change: IndexChange(replaced: record()), origin: .lifecycle,
               event: "s3:LifecycleExpiration:Delete"),
        Change(name: "a lifecycle delete marker", change: IndexChange(replaced: record(), stored: record(deleteMarker: true)),
               origin: .lifecycle, event: "s3:LifecycleExpiration:DeleteMarkerCreated"),
    ]

    @Test(arguments: changes)
    func eventNames(_ test: Change) {
        #expect(ChangeEvents.name(for: test.change, origin: test.origin) == test.event)
    }
}
