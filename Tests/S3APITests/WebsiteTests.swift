import ObjectStore
import S3Wire
import Testing

@Suite("Static websites: the configuration document and routing rules")
struct WebsiteTests {
    struct Invalid: CustomTestStringConvertible, Sendable {
        let name: String
        let document: String
        let code: S3ErrorCode
        var testDescription: String { name }
    }

    static func wrap(_ body: String) -> String { "<WebsiteConfiguration>\(body)</WebsiteConfiguration>" }

    static let invalid: [Invalid] = [
        Invalid(name: "no index document and no redirect", document: wrap("<ErrorDocument><Key>e.html</Key></ErrorDocument>"),
                code: .invalidArgument),
        Invalid(name: "an index suffix with a slash", document: wrap("<IndexDocument><Suffix>a/i.html</Suffix></IndexDocument>"),
                code: .invalidArgument),
        Invalid(name: "redirect-all beside an index document",
                document: wrap("<RedirectAllRequestsTo><HostName>x.test</HostName></RedirectAllRequestsTo><IndexDocument><Suffix>i.html</Suffix></IndexDocument>"),
                code: .invalidArgument),
        Invalid(name: "a protocol other than http or https",
                document: wrap("<RedirectAllRequestsTo><HostName>x.test</HostName><Protocol>ftp</Protocol></RedirectAllRequestsTo>"),
                code: .invalidArgument),
        Invalid(name: "both ways of replacing the key",
                document: wrap("<IndexDocument><Suffix>i.html</Suffix></IndexDocument><RoutingRules><RoutingRule><Redirect><ReplaceKeyWith>a</ReplaceKeyWith><ReplaceKeyPrefixWith>b</ReplaceKeyPrefixWith></Redirect></RoutingRule></RoutingRules>"),
                code: .invalidRequest),
        Invalid(name: "an error code that is not 4XX or 5XX",
                document: wrap("<IndexDocument><Suffix>i.html</Suffix></IndexDocument><RoutingRules><RoutingRule><Condition><HttpErrorCodeReturnedEquals>200</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>h</HostName></Redirect></RoutingRule></RoutingRules>"),
                code: .invalidArgument),
        Invalid(name: "another root element", document: "<CORSConfiguration/>", code: .malformedXML),
    ]

    @Test(arguments: invalid)
    func invalidDocuments(_ test: Invalid) {
        do {
            _ = try WebsiteXML.parse(Array(test.document.utf8))
            Issue.record("parsed")
        } catch {
            #expect(error.code == test.code)
        }
    }

    @Test("a written configuration parses back")
    func roundTrip() throws {
        let configuration = WebsiteConfiguration(
            indexSuffix: "index.html", errorKey: "404.html",
            routingRules: [
                .init(keyPrefixEquals: "docs/", redirect: .init(replaceKeyPrefixWith: "documents/")),
                .init(httpErrorCodeReturnedEquals: "404", redirect: .init(hostName: "h.test", httpRedirectCode: "302", protocol: "https")),
            ])
        #expect(try WebsiteXML.parse(Array(WebsiteXML.write(configuration).text.utf8)) == configuration)
        let redirectAll = WebsiteConfiguration(redirectAll: .init(hostName: "www.test", protocol: "https"))
        #expect(try WebsiteXML.parse(Array(WebsiteXML.write(redirectAll).text.utf8)) == redirectAll)
    }

    struct Route: CustomTestStringConvertible, Sendable {
        let name: String
        let key: String
        let errorCode: Int?
        let location: String?
        var testDescription: String { name }
    }

    static let rules = WebsiteConfiguration(indexSuffix: "index.html", routingRules: [
        .init(keyPrefixEquals: "docs/", redirect: .init(replaceKeyPrefixWith: "documents/")),
        .init(keyPrefixEquals: "old", httpErrorCodeReturnedEquals: "404", redirect: .init(replaceKeyWith: "gone.html")),
        .init(httpErrorCodeReturnedEquals: "403", redirect: .init(hostName: "login.test", httpRedirectCode: "302", protocol: "https")),
    ])

    static let routes: [Route] = [
        Route(name: "a prefix rule replaces the prefix", key: "docs/a/b.html", errorCode: nil, location: "http://site.test/documents/a/b.html"),
        Route(name: "an error rule waits for its error", key: "old/page", errorCode: nil, location: nil),
        Route(name: "an error rule with a prefix, on its error", key: "old/page", errorCode: 404, location: "http://site.test/gone.html"),
        Route(name: "an error rule with a prefix, another key", key: "new/page", errorCode: 404, location: nil),
        Route(name: "a rule on 403 alone, to another host", key: "private", errorCode: 403, location: "https://login.test/private"),
    ]

    @Test(arguments: routes)
    func routing(_ test: Route) {
        let rule = Self.rules.rule(for: test.key, errorCode: test.errorCode)
        let location = rule.map {
            WebsiteConfiguration.location(of: $0.redirect, key: test.key, matchedPrefix: $0.keyPrefixEquals,
                                          requestHost: "site.test", requestScheme: "http",
                                          encodeKey: { Percent.encode($0, keepSlash: true) }).url
        }
        #expect(location == test.location)
    }
}
