import Digest
import Testing

/// HMAC-SHA256 vectors from RFC 4231 section 4 (test case 5, a truncated MAC, is left out),
/// HMAC-SHA1 vectors from RFC 2202 section 3, plus an empty key and message.
struct HMACTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let sha256: String
        let sha1: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "RFC 4231 #1", key: .init(repeating: 0x0b, count: 20), message: Array("Hi There".utf8),
             sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
             sha1: "b617318655057264e28bc0b6fb378c8ef146be00"),
        Case(name: "RFC 4231 #2", key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8),
             sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
             sha1: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        Case(name: "RFC 4231 #3", key: .init(repeating: 0xaa, count: 20), message: .init(repeating: 0xdd, count: 50),
             sha256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
             sha1: "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
        Case(name: "RFC 4231 #4", key: Array(1...25), message: .init(repeating: 0xcd, count: 50),
             sha256: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
             sha1: "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
        Case(name: "RFC 4231 #6", key: .init(repeating: 0xaa, count: 131),
             message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             sha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
             sha1: "90d0dace1c1bdc957339307803160335bde6df2b"),
        Case(name: "RFC 4231 #7", key: .init(repeating: 0xaa, count: 131),
             message: Array(("This is a test using a larger than block-size key and a larger than block-size data."
                 + " The key needs to be hashed before being used by the HMAC algorithm.").utf8),
             sha256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
             sha1: "217e44bb08b6e06a2d6c30f3cb9f537f97c63356"),
        Case(name: "empty key and message", key: [], message: [],
             sha256: "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
             sha1: "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"),
    ]

    @Test(arguments: cases)
    func sha256(_ testCase: Case) {
        #expect(HMAC.sha256(key: testCase.key, message: testCase.message).hexString == testCase.sha256)
    }

    @Test(arguments: cases)
    func sha1(_ testCase: Case) {
        #expect(HMAC.sha1(key: testCase.key, message: testCase.message).hexString == testCase.sha1)
    }

    @Test func nonContiguousMessage() {
        let message = "what do ya want for nothing?".utf8.lazy.map { $0 }
        #expect(HMAC.sha256(key: Array("Jefe".utf8), message: message).hexString
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
