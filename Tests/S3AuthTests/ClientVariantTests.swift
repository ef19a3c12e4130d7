import S3Auth
import Testing

/// Encodings other clients choose, signed by an independent Python SigV4 signer (hmac/hashlib) over
/// the canonical forms named in each case, for 2026-11-20T12:34:56Z.
struct ClientVariantTests {
    static func request(_ name: String, _ method: String, _ path: String, _ query: String, _ signedHeaders: String,
                        _ signature: String, extra: [(String, String)] = []) -> Fixture {
        Fixture(name: name, method: method, path: path, query: query, headers: [
            ("Host", "127.0.0.1:9000"), ("x-amz-date", "20261120T123456Z"),
            ("x-amz-content-sha256", Example.emptySHA256),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request,"
                + " SignedHeaders=\(signedHeaders), Signature=\(signature)"),
        ] + extra)
    }

    static let base = "host;x-amz-content-sha256;x-amz-date"

    static let cases: [Fixture] = [
        // Signed the path exactly as sent (lowercase escape), not re-encoded.
        request("path signed as sent", "GET", "/bucket/a%2fb", "", base,
                "7589256514f59570b4dbd3749bee5f0810b60ca20b4192d6b65890d71b2593ae"),
        // A raw '+' in the query, signed as a literal plus (%2B).
        request("raw plus signed as plus", "GET", "/bucket", "prefix=a+b", base,
                "5a483da38b720c7e33c126179c94b6b7f158a7f1e6ed67c0c673ed551bae16c0"),
        // A raw '+' in the query, signed as a form-encoded space (%20).
        request("raw plus signed as space", "GET", "/bucket", "prefix=a+b", base,
                "f22132f92e4262619d852e0c75c8a31c32786ce05c7aa0c1d30f34c4a9f3f66e"),
        // The JS SDK's x-id parameter is signed like any other.
        request("x-id parameter", "GET", "/bucket/k", "x-id=GetObject", base,
                "ed838c452927026fad36f7df78d916368e0bbbf696cd857039d31ad3f79a2f4c"),
        // A repeated header joins with ',' and inner whitespace collapses.
        request("repeated header", "PUT", "/bucket/k", "", base + ";x-amz-meta-a",
                "65599ca7edbb13716178f9a5f18bfda4fafb9550ed4c74694dce6bb77a0231f9",
                extra: [("X-Amz-Meta-A", "  one "), ("x-amz-meta-a", "two \t  three")]),
        // An empty wire path canonicalizes to "/".
        request("empty path", "GET", "", "", base, "79b071304b0968d0964372c0e7c1a169444b19534ae7413264667694d099fab0"),
    ]

    @Test(arguments: cases)
    func verifies(_ fixture: Fixture) throws {
        let verified = try Example.authenticator().authenticate(fixture.parts, now: Example.botocoreTime)
        #expect(verified.accessKey == Example.accessKey)
    }
}
