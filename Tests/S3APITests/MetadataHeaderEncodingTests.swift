import Testing

@testable import S3Wire

@Suite("User metadata in headers (RFC 2047)")
struct MetadataHeaderEncodingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let testDescription: String
        let header: String
        let stored: String
    }

    static let decoding: [Case] = [
        Case(testDescription: "plain ASCII is stored as sent", header: "Hello World", stored: "Hello World"),
        Case(testDescription: "raw UTF-8 is stored as sent", header: "Hello Worldé", stored: "Hello Worldé"),
        Case(testDescription: "a base64 UTF-8 word is decoded", header: "=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=", stored: "Hello Worldé"),
        Case(testDescription: "charset and encoding are case-insensitive", header: "=?utf-8?b?w6k=?=", stored: "é"),
        Case(testDescription: "a Q word decodes =XX and _", header: "=?UTF-8?Q?caf=C3=A9_au_lait?=", stored: "café au lait"),
        Case(testDescription: "an ISO-8859-1 word becomes UTF-8", header: "=?ISO-8859-1?Q?caf=E9?=", stored: "café"),
        Case(testDescription: "adjacent words join without the space between them", header: "=?UTF-8?B?w6k=?= =?UTF-8?Q?t=C3=A9?=", stored: "été"),
        Case(testDescription: "an unknown charset is kept as sent", header: "=?KOI8-R?B?w6k=?=", stored: "=?KOI8-R?B?w6k=?="),
        Case(testDescription: "bad base64 is kept as sent", header: "=?UTF-8?B?***?=", stored: "=?UTF-8?B?***?="),
        Case(testDescription: "text around a word is kept as sent", header: "=?UTF-8?B?w6k=?= and more", stored: "=?UTF-8?B?w6k=?= and more"),
        Case(testDescription: "bytes that are not UTF-8 are kept as sent", header: "=?UTF-8?B?/w==?=", stored: "=?UTF-8?B?/w==?="),
    ]

    @Test("a header value is decoded for storage", arguments: decoding)
    func stores(_ test: Case) {
        #expect(MetadataHeaderEncoding.storedValue(test.header) == test.stored)
    }

    @Test("ASCII goes out as is; anything else as one base64 UTF-8 word that decodes back")
    func encodes() {
        #expect(MetadataHeaderEncoding.headerValue("plain value") == "plain value")
        #expect(MetadataHeaderEncoding.headerValue("Hello Worldé") == "=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=")
        for value in ["ünïcödé", "日本語", "emoji 🎉"] {
            #expect(MetadataHeaderEncoding.storedValue(MetadataHeaderEncoding.headerValue(value)) == value)
        }
    }
}
