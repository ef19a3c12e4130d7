import Digest
import Testing

/// Sealed boxes open with the key and authenticated data they were sealed with, and with nothing else.
struct AESGCMTests {
    static let key = [UInt8](repeating: 0x42, count: 32)
    static let otherKey = [UInt8](repeating: 0x43, count: 32)

    struct Tamper: CustomTestStringConvertible, Sendable {
        let name: String
        let change: @Sendable ([UInt8]) -> (box: [UInt8], key: [UInt8], aad: [UInt8])
        var testDescription: String { name }
    }

    static let tampers: [Tamper] = [
        Tamper(name: "a flipped ciphertext byte") { box in
            var box = box
            box[14] ^= 1
            return (box, key, Array("AKID".utf8))
        },
        Tamper(name: "a flipped tag byte") { box in
            var box = box
            box[box.count - 1] ^= 0x80
            return (box, key, Array("AKID".utf8))
        },
        Tamper(name: "a flipped nonce byte") { box in
            var box = box
            box[0] ^= 1
            return (box, key, Array("AKID".utf8))
        },
        Tamper(name: "truncated") { box in (Array(box.dropLast()), key, Array("AKID".utf8)) },
        Tamper(name: "shorter than nonce and tag") { _ in (Array(repeating: 0, count: 27), key, Array("AKID".utf8)) },
        Tamper(name: "another key") { box in (box, otherKey, Array("AKID".utf8)) },
        Tamper(name: "other authenticated data") { box in (box, key, Array("AKID2".utf8)) },
    ]

    @Test(arguments: [[UInt8](), Array("secret/key+value".utf8), [UInt8](repeating: 7, count: 1000)])
    func roundTrip(_ plaintext: [UInt8]) throws {
        let box = try AESGCM.seal(plaintext, key: Self.key, aad: Array("AKID".utf8))
        #expect(box.count == plaintext.count + 28)
        #expect(try AESGCM.open(box, key: Self.key, aad: Array("AKID".utf8)) == plaintext)
    }

    @Test func sealingTwiceGivesDifferentBoxes() throws {
        let plaintext = Array("same".utf8)
        #expect(try AESGCM.seal(plaintext, key: Self.key) != AESGCM.seal(plaintext, key: Self.key))
    }

    @Test(arguments: tampers)
    func tamperedBoxesDoNotOpen(_ tamper: Tamper) throws {
        let box = try AESGCM.seal(Array("secret/key+value".utf8), key: Self.key, aad: Array("AKID".utf8))
        let changed = tamper.change(box)
        #expect(throws: AESGCM.Failure.authenticationFailed) {
            try AESGCM.open(changed.box, key: changed.key, aad: changed.aad)
        }
    }

    @Test func aKeyOfTheWrongSizeIsRefused() {
        #expect(throws: AESGCM.Failure.badKey) { try AESGCM.seal([1], key: [1, 2, 3]) }
    }
}
