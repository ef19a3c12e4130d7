import Foundation
import ObjectStore
import Testing

@testable import LocalStore

@Suite("Stored checksum decoding")
struct StoredChecksumDecodingTests {
    static let written: [StoredChecksum] = [
        StoredChecksum(algorithm: "CRC32", value: "sOO8/Q=="),
        StoredChecksum(algorithm: "CRC64NVME", value: "AAAAAAAAAAA=", type: "FULL_OBJECT"),
        StoredChecksum(algorithm: "SHA256", value: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-3", type: "COMPOSITE"),
        StoredChecksum(algorithm: "SHA1", value: "", type: "FULL_OBJECT"),
    ]

    @Test("reads back what the index writes (JSONEncoder, sorted keys)", arguments: written)
    func roundTrip(_ checksum: StoredChecksum) throws {
        let text = try SQLiteIndex.json(checksum)
        #expect(SQLiteIndex.canonicalJSONStrings(text, keys: ["algorithm", "type", "value"]) != nil, "the fast path reads \(text)")
        #expect(try SQLiteIndex.decodeChecksum(text) == checksum)
    }

    struct OtherShape: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let text: String
        let expected: StoredChecksum?
    }

    @Test("any other shape goes to JSONDecoder, which decides", arguments: [
        OtherShape(testDescription: "keys in another order", text: #"{"value":"AQ==","algorithm":"CRC32","type":"FULL_OBJECT"}"#,
                   expected: StoredChecksum(algorithm: "CRC32", value: "AQ==")),
        OtherShape(testDescription: "spaces", text: #"{ "algorithm": "CRC32", "type": "FULL_OBJECT", "value": "AQ==" }"#,
                   expected: StoredChecksum(algorithm: "CRC32", value: "AQ==")),
        OtherShape(testDescription: "a unicode escape", text: #"{"algorithm":"CRC\u0033\u0032","type":"FULL_OBJECT","value":"AQ=="}"#,
                   expected: StoredChecksum(algorithm: "CRC32", value: "AQ==")),
        OtherShape(testDescription: "a missing field", text: #"{"algorithm":"CRC32","value":"AQ=="}"#, expected: nil),
        OtherShape(testDescription: "trailing bytes", text: #"{"algorithm":"CRC32","type":"FULL_OBJECT","value":"AQ=="}x"#, expected: nil),
        OtherShape(testDescription: "not JSON", text: "CRC32:AQ==", expected: nil),
    ])
    func otherShapes(_ shape: OtherShape) throws {
        if let expected = shape.expected {
            #expect(try SQLiteIndex.decodeChecksum(shape.text) == expected)
        } else {
            #expect(throws: (any Error).self) { _ = try SQLiteIndex.decodeChecksum(shape.text) }
        }
    }
}
