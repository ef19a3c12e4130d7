import Foundation
import ObjectStore
import Testing

@Suite("Write conditions")
struct WriteConditionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let condition: WriteCondition
        let currentETag: String?
        let holds: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no condition writes over anything", condition: .always, currentETag: "a", holds: true),
        Case(name: "no condition writes a new key", condition: .always, currentETag: nil, holds: true),
        Case(name: "If-None-Match * writes a new key", condition: .ifAbsent, currentETag: nil, holds: true),
        Case(name: "If-None-Match * refuses an existing key", condition: .ifAbsent, currentETag: "a", holds: false),
        Case(name: "If-None-Match etag refuses that object", condition: .init(ifNoneMatch: .etags(["a"])), currentETag: "a", holds: false),
        Case(name: "If-None-Match etag writes over another", condition: .init(ifNoneMatch: .etags(["b"])), currentETag: "a", holds: true),
        Case(name: "If-None-Match etag writes a new key", condition: .init(ifNoneMatch: .etags(["b"])), currentETag: nil, holds: true),
        Case(name: "If-Match etag writes over that object", condition: .ifETagMatches("a"), currentETag: "a", holds: true),
        Case(name: "If-Match etag refuses another", condition: .ifETagMatches("b"), currentETag: "a", holds: false),
        Case(name: "If-Match etag refuses a new key", condition: .ifETagMatches("a"), currentETag: nil, holds: false),
        Case(name: "If-Match list names one of several", condition: .init(ifMatch: .etags(["b", "a"])), currentETag: "a", holds: true),
        Case(name: "If-Match * writes over any object", condition: .init(ifMatch: .any), currentETag: "a", holds: true),
        Case(name: "If-Match * refuses a new key", condition: .init(ifMatch: .any), currentETag: nil, holds: false),
        Case(name: "both headers must hold", condition: .init(ifMatch: .any, ifNoneMatch: .etags(["a"])), currentETag: "a", holds: false),
    ]

    @Test("holds for the current object", arguments: cases)
    func holds(_ test: Case) {
        let current = test.currentETag.map {
            ObjectRecord(bucket: "b", key: "k", size: 0, etag: $0, lastModified: Date(), metadata: ObjectMetadata(), checksum: nil, segments: [])
        }
        #expect(test.condition.holds(for: current) == test.holds)
    }
}
