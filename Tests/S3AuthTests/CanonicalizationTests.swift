@testable import S3Auth
import Testing

/// The SigV4 canonical forms, step by step.
struct CanonicalizationTests {
    @Test(arguments: [
        ("", "/"),
        ("/", "/"),
        ("/bucket/key", "/bucket/key"),
        ("/test$file.text", "/test%24file.text"),
        ("/test%24file.text", "/test%24file.text"),
        ("/a%2fb", "/a%2Fb"),
        ("/a b+c", "/a%20b%2Bc"),
        ("/a%20b%2Bc", "/a%20b%2Bc"),
        ("/../x/./y//z", "/../x/./y//z"),
        ("/~user/_-.", "/~user/_-."),
        ("/%E2%82%AC", "/%E2%82%AC"),
        ("/€", "/%E2%82%AC"),
        ("/100%", "/100%25"),
        ("/%zz", "/%25zz"),
    ])
    func canonicalURI(_ raw: String, _ expected: String) {
        #expect(SigV4.canonicalURI(rawPath: raw) == expected)
    }

    @Test(arguments: [
        ("", ""),
        ("lifecycle", "lifecycle="),
        ("max-keys=2&prefix=J", "max-keys=2&prefix=J"),
        ("prefix=J&max-keys=2", "max-keys=2&prefix=J"),
        ("b=2&a=1&a=0", "a=0&a=1&b=2"),
        ("prefix=a+b", "prefix=a%20b"),
        ("prefix=a%2Bb", "prefix=a%2Bb"),
        ("prefix=a%2bb", "prefix=a%2Bb"),
        ("delimiter=/", "delimiter=%2F"),
        ("k=%7E~", "k=~~"),
        ("x-id=GetObject&uploads", "uploads=&x-id=GetObject"),
        ("a=1&&b=2", "a=1&b=2"),
        ("k=a=b", "k=a%3Db"),
        ("Z=1&a=1", "Z=1&a=1"),
    ])
    func canonicalQuery(_ raw: String, _ expected: String) {
        #expect(SigV4.canonicalQuery(QueryParameters(rawQuery: raw)) == expected)
    }

    @Test func presignedQueryLeavesOutTheSignature() {
        let query = QueryParameters(rawQuery: "X-Amz-Signature=abc&X-Amz-Date=1")
        #expect(SigV4.canonicalQuery(query, excluding: "X-Amz-Signature") == "X-Amz-Date=1")
    }

    @Test(arguments: [
        ("value", "value"),
        ("  padded  ", "padded"),
        ("a   b \t c", "a b c"),
        ("\"a  b\"", "\"a b\""),
        ("", ""),
    ])
    func trimAll(_ raw: String, _ expected: String) {
        #expect(SigV4.trimAll(raw) == expected)
    }

    @Test func canonicalHeadersJoinRepeatsInWireOrder() {
        let request = HTTPRequestParts(method: "GET", rawPath: "/", rawQuery: "", headers: [
            (name: "Host", value: "example.com"), (name: "My-Header1", value: "value4"),
            (name: "my-header1", value: "  value1 "), (name: "X-Amz-Date", value: "20150830T123600Z"),
        ])
        #expect(SigV4.canonicalHeaders(request, signedHeaders: ["host", "my-header1", "x-amz-date"])
            == "host:example.com\nmy-header1:value4,value1\nx-amz-date:20150830T123600Z\n")
    }

    @Test func sigV2ResourceKeepsOnlySubResources() {
        let query = QueryParameters(rawQuery: "versionId=v%201&prefix=x&acl&response-content-type=text%2Fplain&uploads")
        #expect(SigV2.canonicalResource(path: "/b/k", query: query)
            == "/b/k?acl&response-content-type=text/plain&uploads&versionId=v 1")
        #expect(SigV2.canonicalResource(path: "/b/k", query: QueryParameters(rawQuery: "prefix=x")) == "/b/k")
    }

    @Test func sigV2AmzHeadersSortAndJoin() {
        let headers = [(name: "X-Amz-Meta-B", value: " 2 "), (name: "x-amz-meta-a", value: "1"),
                       (name: "x-amz-meta-b", value: "3"), (name: "Content-Type", value: "text/plain")]
        #expect(SigV2.canonicalAmzHeaders(headers) == "x-amz-meta-a:1\nx-amz-meta-b:2,3\n")
    }
}
