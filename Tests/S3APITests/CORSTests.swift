import ObjectStore
import S3Wire
import Testing

@Suite("CORS rules: the document and matching")
struct CORSTests {
    static let rule = CORSRule(
        allowedOrigins: ["https://app.example.test", "https://*.preview.test", "start*end"],
        allowedMethods: ["GET", "PUT"], allowedHeaders: ["content-type", "x-amz-*"])

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let origin: String
        let method: String
        let headers: [String]
        let allowed: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a listed origin and method", origin: "https://app.example.test", method: "GET", headers: [], allowed: true),
        Case(name: "a wildcard origin", origin: "https://pr-1.preview.test", method: "PUT", headers: [], allowed: true),
        Case(name: "a wildcard in the middle matches nothing between", origin: "startend", method: "GET", headers: [], allowed: true),
        Case(name: "the origin is matched whole", origin: "https://app.example.test.evil", method: "GET", headers: [], allowed: false),
        Case(name: "the wildcard does not cover a prefix it lacks", origin: "0startend", method: "GET", headers: [], allowed: false),
        Case(name: "an unlisted method", origin: "https://app.example.test", method: "DELETE", headers: [], allowed: false),
        Case(name: "headers match case-insensitively, with wildcards", origin: "https://app.example.test", method: "PUT",
             headers: ["Content-Type", "x-amz-meta-album"], allowed: true),
        Case(name: "one unlisted header refuses the whole request", origin: "https://app.example.test", method: "PUT",
             headers: ["content-type", "authorization"], allowed: false),
    ]

    @Test(arguments: cases)
    func matching(_ test: Case) {
        #expect(Self.rule.allows(origin: test.origin, method: test.method, headers: test.headers) == test.allowed)
    }

    @Test("an AllowedOrigin of * answers with *, any other with the request's origin")
    func allowOrigin() {
        #expect(CORSRule(allowedOrigins: ["*"], allowedMethods: ["GET"]).allowOrigin(for: "https://a.test") == "*")
        #expect(Self.rule.allowOrigin(for: "https://app.example.test") == "https://app.example.test")
    }

    @Test("a written configuration parses back")
    func roundTrip() throws {
        let rules = [
            CORSRule(id: "r1", allowedOrigins: ["*"], allowedMethods: ["GET", "HEAD"], allowedHeaders: ["*"],
                     exposeHeaders: ["ETag"], maxAgeSeconds: 3000),
            Self.rule,
        ]
        #expect(try CORSXML.parse(Array(CORSXML.write(rules).text.utf8)) == rules)
    }

    @Test("AWS's refusals", arguments: [
        ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>", S3ErrorCode.invalidRequest),
        ("<CORSConfiguration><CORSRule><AllowedOrigin>*a*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", .invalidRequest),
        ("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", .malformedXML),
        ("<CORSConfiguration></CORSConfiguration>", .malformedXML),
        ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>", .malformedXML),
    ])
    func refusals(_ pair: (String, S3ErrorCode)) {
        do throws(S3Error) {
            _ = try CORSXML.parse(Array(pair.0.utf8))
            Issue.record("accepted \(pair.0)")
        } catch {
            #expect(error.code == pair.1)
        }
    }
}
