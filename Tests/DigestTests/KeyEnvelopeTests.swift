import Testing

@testable import Digest

@Suite("KeyEnvelope")
struct KeyEnvelopeTests {
    static let kek: [UInt8] = (0..<32).map { UInt8($0 &* 5 &+ 1) }
    static let other: [UInt8] = (0..<32).map { UInt8($0 &* 3 &+ 2) }
    static let reference: [UInt8] = (0..<16).map { UInt8($0) }

    @Test("seals, serializes to 96 bytes, parses and opens under its key alone")
    func roundTrip() throws {
        let dataKey = KeyEnvelope.randomKey()
        let envelope = try KeyEnvelope(sealing: dataKey, wrapping: .kms, reference: Self.reference, wrappingKey: Self.kek)
        #expect(envelope.bytes.count == KeyEnvelope.size)
        let parsed = try KeyEnvelope(parsing: envelope.bytes)
        #expect(parsed == envelope)
        #expect(parsed.wrapping == .kms && parsed.reference == Self.reference)
        #expect(try parsed.open(wrappingKey: Self.kek) == dataKey)
        #expect(throws: KeyEnvelope.Failure.wrongKey) { try parsed.open(wrappingKey: Self.other) }
    }

    struct TamperCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let offset: Int
        let expected: KeyEnvelope.Failure
    }

    @Test("an altered envelope never opens", arguments: [
        TamperCase(testDescription: "magic", offset: 0, expected: .unknownFormat),
        TamperCase(testDescription: "wrapping kind to an unknown one", offset: 4, expected: .unknownFormat),
        TamperCase(testDescription: "key reference", offset: 9, expected: .wrongKey),
        TamperCase(testDescription: "nonce", offset: 22, expected: .wrongKey),
        TamperCase(testDescription: "sealed key", offset: 40, expected: .wrongKey),
        TamperCase(testDescription: "tag", offset: 80, expected: .wrongKey),
    ])
    func tamper(_ tamper: TamperCase) throws {
        var bytes = try KeyEnvelope(sealing: KeyEnvelope.randomKey(), wrapping: .master, reference: Self.reference, wrappingKey: Self.kek).bytes
        bytes[tamper.offset] ^= 0x40
        #expect(throws: tamper.expected) { try KeyEnvelope(parsing: bytes).open(wrappingKey: Self.kek) }
    }

    @Test("a changed wrapping kind is detected (it is authenticated)")
    func wrappingBound() throws {
        var bytes = try KeyEnvelope(sealing: KeyEnvelope.randomKey(), wrapping: .master, reference: Self.reference, wrappingKey: Self.kek).bytes
        bytes[4] = KeyEnvelope.Wrapping.customer.rawValue
        #expect(throws: KeyEnvelope.Failure.wrongKey) { try KeyEnvelope(parsing: bytes).open(wrappingKey: Self.kek) }
    }

    @Test("re-sealing under a new key keeps the data key and drops the old key")
    func reseal() throws {
        let dataKey = KeyEnvelope.randomKey()
        let envelope = try KeyEnvelope(sealing: dataKey, wrapping: .master, reference: Self.reference, wrappingKey: Self.kek)
        let newReference = [UInt8](repeating: 9, count: 16)
        let rotated = try envelope.resealed(from: Self.kek, to: Self.other, reference: newReference)
        #expect(rotated.reference == newReference)
        #expect(try rotated.open(wrappingKey: Self.other) == dataKey)
        #expect(throws: KeyEnvelope.Failure.wrongKey) { try rotated.open(wrappingKey: Self.kek) }
    }
}
