import Foundation
import NIOCore
import S3Auth
import Testing

/// Requests botocore signed verify, and the same requests altered do not.
struct BotocoreTests {
    static let now = Example.botocoreTime

    @Test(arguments: BotocoreFixtures.sigV4)
    func sigV4HeaderVerifies(_ fixture: Fixture) throws {
        let verified = try Example.authenticator().authenticate(fixture.parts, now: Self.now)
        #expect(verified.signatureVersion == .v4)
        #expect(verified.accessKey == Example.accessKey)
        #expect(!verified.isPresigned)
        guard case .sha256 = verified.payload else {
            Issue.record("botocore over HTTP sends the body's SHA-256, got \(verified.payload)")
            return
        }
    }

    @Test(arguments: BotocoreFixtures.sigV4 + BotocoreFixtures.chunked)
    func alteredPathFails(_ fixture: Fixture) {
        var altered = fixture
        altered.path += "x"
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(altered.parts, now: Self.now) }
        #expect(error?.code == .signatureDoesNotMatch)
        #expect(error?.details.first?.0 == "AWSAccessKeyId")
    }

    @Test(arguments: BotocoreFixtures.sigV4.filter { !$0.query.isEmpty })
    func alteredQueryFails(_ fixture: Fixture) {
        var altered = fixture
        altered.query += "&extra=1"
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(altered.parts, now: Self.now) }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test(arguments: BotocoreFixtures.chunked)
    func chunkedUploadVerifiesAndDecodes(_ fixture: Fixture) throws {
        let verified = try Example.authenticator().authenticate(fixture.parts, now: Self.now)
        guard case .chunked(let config) = verified.payload else {
            Issue.record("expected .chunked, got \(verified.payload)")
            return
        }
        #expect(config.signing == nil)
        #expect(!config.signedTrailer)
        #expect(config.trailerNames.count == 1)
        var decoder = AWSChunkedDecoder(config: config)
        let result = try decoder.decodeAll(Array(fixture.body.utf8), pieces: [1, 2, 3, 5, 8, 13, 21])
        #expect(result.trailers.keys.sorted() == config.trailerNames)
        #expect(Int64(result.body.count) == config.decodedContentLength)
    }

    @Test(arguments: BotocoreFixtures.presignedV4)
    func presignedV4Verifies(_ fixture: Fixture) throws {
        let verified = try Example.authenticator().authenticate(fixture.parts, now: Self.now.addingTimeInterval(60))
        #expect(verified.isPresigned)
        #expect(verified.signatureVersion == .v4)
    }

    @Test func presignedV4PutNeedsTheSignedContentType() {
        let fixture = BotocoreFixtures.presignedV4[1].replacing(header: "Content-Type", with: "image/png")
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(fixture.parts, now: Self.now) }
        #expect(error?.code == .signatureDoesNotMatch)
    }

    @Test(arguments: BotocoreFixtures.sigV2)
    func sigV2HeaderVerifies(_ fixture: Fixture) throws {
        let verified = try Example.authenticator().authenticate(fixture.parts, now: Self.now)
        #expect(verified.signatureVersion == .v2)
        #expect(verified.accessKey == Example.accessKey)
        #expect(!verified.isPresigned)
    }

    @Test(arguments: BotocoreFixtures.sigV2)
    func sigV2AlteredFails(_ fixture: Fixture) {
        var altered = fixture
        altered.method = altered.method == "GET" ? "HEAD" : "POST"
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(altered.parts, now: Self.now) }
        #expect(error?.code == .signatureDoesNotMatch)
        #expect(error?.details.map(\.0) == ["AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes"])
    }

    /// botocore (addressing_style='virtual', endpoint http://s3.example.test:9000) GET of
    /// "dir/a b.txt" in "bucket", sent to bucket.s3.example.test as "/dir/a%20b.txt".
    static let virtualHostedV2 = Fixture(method: "GET", path: "/dir/a%20b.txt", query: "", headers: [
        ("x-amz-checksum-mode", "ENABLED"), ("Date", "Fri, 20 Nov 2026 12:34:56 GMT"),
        ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:qOmhjn3eF8jgkGk4pzYp5QqjZOg="),
        ("Host", "bucket.s3.example.test:9000"),
    ])

    @Test func sigV2VirtualHostedNeedsThePathStyleResource() throws {
        var parts = Self.virtualHostedV2.parts
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(parts, now: Self.now) }
        #expect(error?.code == .signatureDoesNotMatch)
        parts.sigV2ResourcePath = "/bucket/dir/a%20b.txt"
        let verified = try Example.authenticator().authenticate(parts, now: Self.now)
        #expect(verified.signatureVersion == .v2)
    }

    @Test(arguments: BotocoreFixtures.presignedV2)
    func presignedV2Verifies(_ fixture: Fixture) throws {
        let verified = try Example.authenticator().authenticate(fixture.parts, now: Self.now)
        #expect(verified.isPresigned)
        #expect(verified.signatureVersion == .v2)
    }

    @Test func presignedV2PutWithContentTypeHeaderStillVerifies() throws {
        let fixture = BotocoreFixtures.presignedV2[1].replacing(header: "Content-Type", with: "text/plain")
        _ = try Example.authenticator().authenticate(fixture.parts, now: Self.now)
    }

    @Test(arguments: BotocoreFixtures.presignedV2)
    func presignedV2Expires(_ fixture: Fixture) {
        let later = Self.now.addingTimeInterval(3601)
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(fixture.parts, now: later) }
        #expect(error?.code == .accessDenied)
        #expect(error?.message == "Request has expired")
        #expect(error?.details.map(\.0) == ["Expires", "ServerTime"])
    }
}
