import ObjectStore
import S3Wire
import Testing

@testable import S3API

/// A website redirect's Location is a URL: the decoded key goes in percent-encoded (UTF-8, all but unreserved
/// characters and `/`), and nothing a URL cannot hold (NUL, controls, spaces, non-ASCII) reaches the header raw.
@Suite("Website redirects percent-encode what they put in Location")
struct WebsiteRedirectEncodingTests {
    struct Route: CustomTestStringConvertible, Sendable {
        let name: String
        let key: String
        let location: String
        var testDescription: String { name }
    }

    static let rules = WebsiteConfiguration(indexSuffix: "index.html", routingRules: [
        .init(keyPrefixEquals: "docs/", redirect: .init(replaceKeyPrefixWith: "new docs/")),
        .init(keyPrefixEquals: "page", redirect: .init(replaceKeyWith: "é.html")),
        .init(redirect: .init(hostName: "h.test", protocol: "https")),
    ])

    static let routes: [Route] = [
        Route(name: "a plain key passes as it is", key: "docs/a/b.html", location: "http://site.test/new%20docs/a/b.html"),
        Route(name: "a space is %20, not +", key: "docs/a b+c.html", location: "http://site.test/new%20docs/a%20b%2Bc.html"),
        Route(name: "NUL and line breaks are escaped", key: "docs/a\u{0}b\r\nc", location: "http://site.test/new%20docs/a%00b%0D%0Ac"),
        Route(name: "non-ASCII as UTF-8", key: "docs/日本/ü", location: "http://site.test/new%20docs/%E6%97%A5%E6%9C%AC/%C3%BC"),
        Route(name: "reserved characters of a key are data", key: "docs/a?b#c%d&e=f",
              location: "http://site.test/new%20docs/a%3Fb%23c%25d%26e%3Df"),
        Route(name: "ReplaceKeyWith is a key too", key: "page1", location: "http://site.test/%C3%A9.html"),
        Route(name: "a key kept whole, to another host", key: "x\u{7F}y z", location: "https://h.test/x%7Fy%20z"),
    ]

    @Test(arguments: routes)
    func routingRules(_ test: Route) throws {
        let rule = try #require(Self.rules.rule(for: test.key, errorCode: nil))
        let url = WebsiteConfiguration.location(
            of: rule.redirect, key: test.key, matchedPrefix: rule.keyPrefixEquals, requestHost: "site.test",
            requestScheme: "http", encodeKey: S3Server.encodeKey).url
        #expect(url == test.location)
        // The header pass leaves an encoded URL alone.
        #expect(S3Server.escapeForLocation(url) == url)
    }

    @Test("a URL written by someone else keeps what is valid and escapes the rest", arguments: [
        ("/docs/", "/docs/"),
        ("https://example.com/a/b?c=d&e=f#g", "https://example.com/a/b?c=d&e=f#g"),
        ("/already%20encoded%2Fkey", "/already%20encoded%2Fkey"),
        ("/a b", "/a%20b"),
        ("/nul\u{0}here", "/nul%00here"),
        ("/line\r\nSet-Cookie: x=y", "/line%0D%0ASet-Cookie:%20x=y"),
        ("/tab\there", "/tab%09here"),
        ("/ü", "/%C3%BC"),
        ("/\"<>\\^`{|}", "/%22%3C%3E%5C%5E%60%7B%7C%7D"),
        ("/del\u{7F}", "/del%7F"),
        ("/100%", "/100%25"),
        ("/%zz%4", "/%25zz%254"),
    ])
    func foreignURLs(_ pair: (String, String)) {
        #expect(S3Server.escapeForLocation(pair.0) == pair.1)
    }

    @Test("every escaped Location is printable ASCII without spaces")
    func onlyPrintableASCII() {
        var everyByte = ""
        for scalar in (0...0x7F).compactMap(Unicode.Scalar.init) { everyByte.unicodeScalars.append(scalar) }
        everyByte += "é日本\u{10FFFF}"
        for url in [S3Server.escapeForLocation(everyByte), S3Server.encodeKey(everyByte)] {
            #expect(url.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F })
        }
    }
}
