import Foundation
import S3Auth
import Testing

/// The worked examples of "Examples: Signature Calculations in AWS Signature Version 4" for S3:
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (GET object with
/// Range, PUT object, GET bucket lifecycle, list objects), the presigned-URL example of
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html and the seed request
/// of https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html.
struct SigV4ExampleTests {
    static let host = ("Host", "examplebucket.s3.amazonaws.com")
    static let date = ("x-amz-date", "20130524T000000Z")
    static func authorization(_ signedHeaders: String, _ signature: String) -> (String, String) {
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=\(signedHeaders),Signature=\(signature)")
    }

    static let headerExamples: [Fixture] = [
        Fixture(name: "GET object with Range", method: "GET", path: "/test.txt", query: "", headers: [
            host, ("Range", "bytes=0-9"), ("x-amz-content-sha256", Example.emptySHA256), date,
            authorization("host;range;x-amz-content-sha256;x-amz-date",
                          "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        ]),
        Fixture(name: "PUT object", method: "PUT", path: "/test%24file.text", query: "", headers: [
            host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), date, ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        ]),
        Fixture(name: "GET bucket lifecycle", method: "GET", path: "/", query: "lifecycle", headers: [
            host, ("x-amz-content-sha256", Example.emptySHA256), date,
            authorization("host;x-amz-content-sha256;x-amz-date",
                          "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        ]),
        Fixture(name: "list objects", method: "GET", path: "/", query: "max-keys=2&prefix=J", headers: [
            host, ("x-amz-content-sha256", Example.emptySHA256), date,
            authorization("host;x-amz-content-sha256;x-amz-date",
                          "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
        ]),
        // The PUT example's path unescaped on the wire: the canonical URI escapes '$' either way.
        Fixture(name: "PUT object, '$' sent raw", method: "PUT", path: "/test$file.text", query: "", headers: [
            host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), date, ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        ]),
        // Query parameters in another order, and spaces around the Authorization commas.
        Fixture(name: "list objects, reordered query", method: "GET", path: "/", query: "prefix=J&max-keys=2", headers: [
            host, ("x-amz-content-sha256", Example.emptySHA256), date,
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + " SignedHeaders=host;x-amz-content-sha256;x-amz-date ,  Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
        ]),
    ]

    @Test(arguments: headerExamples)
    func headerExampleVerifies(_ fixture: Fixture) throws {
        let verified = try Example.authenticator().authenticate(fixture.parts, now: Example.awsDocTime)
        #expect(verified.accessKey == Example.accessKey)
        #expect(verified.signatureVersion == .v4)
        #expect(!verified.isPresigned)
    }

    @Test func putExampleAsksForItsBodyHash() throws {
        let verified = try Example.authenticator().authenticate(Self.headerExamples[1].parts, now: Example.awsDocTime)
        guard case .sha256(let hex) = verified.payload else {
            Issue.record("expected .sha256, got \(verified.payload)")
            return
        }
        #expect(hex == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
    }

    static let presignedExample = Fixture(
        name: "presigned GET", method: "GET",
        url: "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        headers: [host])

    @Test(arguments: [0, 3_600, 86_400])
    func presignedExampleVerifiesWithinItsLifetime(_ secondsLater: Int) throws {
        let now = Example.awsDocTime.addingTimeInterval(TimeInterval(secondsLater))
        let verified = try Example.authenticator().authenticate(Self.presignedExample.parts, now: now)
        #expect(verified.isPresigned)
        #expect(verified.signatureVersion == .v4)
        #expect(verified.accessKey == Example.accessKey)
        guard case .unsigned = verified.payload else {
            Issue.record("expected .unsigned, got \(verified.payload)")
            return
        }
    }

    static let chunkedSeedRequest = Fixture(
        name: "chunked upload seed", method: "PUT", path: "/examplebucket/chunkObject.txt", query: "", headers: [
            ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                + "x-amz-decoded-content-length;x-amz-storage-class,"
                + "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
        ])

    @Test func chunkedSeedRequestYieldsItsSigningContext() throws {
        let verified = try Example.authenticator().authenticate(Self.chunkedSeedRequest.parts, now: Example.awsDocTime)
        guard case .chunked(let config) = verified.payload, let signing = config.signing else {
            Issue.record("expected signed .chunked, got \(verified.payload)")
            return
        }
        #expect(signing.seedSignature == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
        #expect(signing.scope == "20130524/us-east-1/s3/aws4_request")
        #expect(signing.amzDate == "20130524T000000Z")
        #expect(config.decodedContentLength == 66560)
        #expect(!config.signedTrailer)
        #expect(config.trailerNames.isEmpty)
    }
}
