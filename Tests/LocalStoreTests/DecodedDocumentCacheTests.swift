import Foundation
import Testing

import ObjectStore

@Suite("DecodedDocumentCache")
struct DecodedDocumentCacheTests {
    struct Document: Codable, Equatable, Sendable {
        var name: String
        var tags: [String]
    }

    static let texts = [
        #"{"name":"a","tags":[]}"#,
        #"{"name":"b","tags":["x","y"]}"#,
        #"{"tags":["z"],"name":"c"}"#,
        #"{"name":"\#(String(repeating: "long", count: 40))","tags":[]}"#,
    ]

    @Test("gives what a fresh decode gives, from memory or not, also past its capacity")
    func matchesFreshDecode() throws {
        let cache = DecodedDocumentCache<Document>(capacity: 2, maxTextLength: 100)
        for _ in 0..<3 {
            for text in Self.texts {
                #expect(try cache.decode(text) == JSONDecoder().decode(Document.self, from: Data(text.utf8)))
            }
        }
    }

    @Test("reports a document that does not decode, every time")
    func malformed() {
        let cache = DecodedDocumentCache<Document>()
        for _ in 0..<2 {
            #expect(throws: DecodingError.self) { try cache.decode(#"{"name":1}"#) }
        }
    }
}
