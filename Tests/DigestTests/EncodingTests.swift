import Digest
import Testing

/// RFC 4648 section 10 vectors, round trips, and inputs the decoders must refuse.
struct EncodingTests {
    static let base64Vectors: [(plain: String, encoded: String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: base64Vectors)
    func base64RFC4648(_ vector: (plain: String, encoded: String)) {
        #expect(vector.plain.utf8.base64String == vector.encoded)
        #expect(decodeBase64(vector.encoded) == Array(vector.plain.utf8))
    }

    @Test func base64AllByteValuesRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        for length in 0...bytes.count {
            let slice = Array(bytes[0..<length])
            #expect(decodeBase64(slice.base64String) == slice)
        }
        #expect([0xfb, 0xff, 0xbf].base64String == "+/+/")
    }

    @Test(arguments: ["Zg", "Zg=", "Z===", "Zg=a", "Zm9v!A==", "Zm=v", "====", "Zg==Zg==", " Zg="])
    func base64Refuses(_ input: String) {
        #expect(decodeBase64(input) == nil)
    }

    @Test func hexRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        let hex = bytes.hexString
        #expect(hex.hasPrefix("000102"))
        #expect(hex.hasSuffix("fdfeff"))
        #expect(decodeHex(hex) == bytes)
        #expect(decodeHex("DEADbeef") == [0xde, 0xad, 0xbe, 0xef])
        #expect([UInt8]().hexString == "")
        #expect(decodeHex("") == [])
    }

    @Test(arguments: ["0", "abc", "0g", "zz", "0x00", " 00"])
    func hexRefuses(_ input: String) {
        #expect(decodeHex(input) == nil)
    }
}
