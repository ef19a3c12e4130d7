import Foundation
import S3Auth
import Testing

/// Requests that must be refused, with the S3 error (code, message, details) each gets.
struct AuthFailureTests {
    static let getExample = SigV4ExampleTests.headerExamples[0]
    static let presigned = SigV4ExampleTests.presignedExample

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let request: Fixture
        var now: Date = Example.awsDocTime
        var region = "us-east-1"
        let code: AuthFailure.Code
        var message: String?
        var detailNames: [String]?
        var testDescription: String { name }
    }

    static func withAuthorization(_ value: String) -> Fixture {
        getExample.replacing(header: "Authorization", with: value)
    }

    static func presignedQuery(_ transform: (String) -> String) -> Fixture {
        var fixture = presigned
        fixture.query = transform(fixture.query)
        return fixture
    }

    static let cases: [Case] = [
        Case(name: "wrong region", request: getExample, region: "eu-west-1", code: .authorizationHeaderMalformed,
             message: "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
             detailNames: ["Region"]),
        Case(name: "unknown access key",
             request: withAuthorization("AWS4-HMAC-SHA256 Credential=NOSUCHKEY/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=" + String(repeating: "0", count: 64)),
             code: .invalidAccessKeyId, message: "The AWS Access Key Id you provided does not exist in our records.",
             detailNames: ["AWSAccessKeyId"]),
        Case(name: "wrong signature",
             request: withAuthorization("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=" + String(repeating: "0", count: 64)),
             code: .signatureDoesNotMatch,
             message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
             detailNames: ["AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes", "CanonicalRequest",
                           "CanonicalRequestBytes"]),
        Case(name: "tampered Range header", request: getExample.replacing(header: "Range", with: "bytes=0-10"),
             code: .signatureDoesNotMatch),
        Case(name: "clock 16 minutes ahead", request: getExample, now: Example.awsDocTime.addingTimeInterval(961),
             code: .requestTimeTooSkewed, message: "The difference between the request time and the current time is too large.",
             detailNames: ["RequestTime", "ServerTime", "MaxAllowedSkewMilliseconds"]),
        Case(name: "clock 16 minutes behind", request: getExample, now: Example.awsDocTime.addingTimeInterval(-961),
             code: .requestTimeTooSkewed),
        Case(name: "wrong service",
             request: withAuthorization("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request,"
                + "SignedHeaders=host,Signature=00"), code: .authorizationHeaderMalformed),
        Case(name: "malformed credential",
             request: withAuthorization("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host,Signature=00"), code: .authorizationHeaderMalformed),
        Case(name: "credential date differs from x-amz-date",
             request: withAuthorization("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130523/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;x-amz-date,Signature=00"), code: .authorizationHeaderMalformed),
        Case(name: "missing Signature component",
             request: withAuthorization("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host"), code: .authorizationHeaderMalformed),
        Case(name: "host not signed",
             request: withAuthorization("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=range;x-amz-date,Signature=00"), code: .accessDenied, detailNames: ["HeadersNotSigned"]),
        Case(name: "no date", request: {
            var fixture = getExample
            fixture.headers.removeAll { $0.0 == "x-amz-date" }
            return fixture
        }(), code: .accessDenied, message: "AWS authentication requires a valid Date or x-amz-date header"),
        Case(name: "missing x-amz-content-sha256", request: {
            var fixture = getExample
            fixture.headers.removeAll { $0.0 == "x-amz-content-sha256" }
            return fixture
        }(), code: .invalidRequest, message: "Missing required header for this request: x-amz-content-sha256"),
        Case(name: "bad x-amz-content-sha256", request: getExample.replacing(header: "x-amz-content-sha256", with: "nonsense"),
             code: .invalidArgument, detailNames: ["ArgumentName", "ArgumentValue"]),
        Case(name: "unsupported scheme", request: withAuthorization("Bearer abc"), code: .invalidArgument,
             message: "Unsupported Authorization Type"),
        Case(name: "SigV4A", request: withAuthorization("AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request"),
             code: .invalidArgument),
        Case(name: "header and query auth together", request: presigned.replacing(header: "Authorization", with: "AWS a:b"),
             code: .invalidArgument),
        Case(name: "presigned expired", request: presigned, now: Example.awsDocTime.addingTimeInterval(86_401),
             code: .accessDenied, message: "Request has expired", detailNames: ["X-Amz-Expires", "Expires", "ServerTime"]),
        Case(name: "presigned not valid yet", request: presigned, now: Example.awsDocTime.addingTimeInterval(-1000),
             code: .accessDenied, message: "Request is not valid yet"),
        Case(name: "presigned wrong region", request: presigned, region: "eu-west-1",
             code: .authorizationQueryParametersError, detailNames: ["Region"]),
        Case(name: "presigned expiry over a week", request: presignedQuery { $0.replacingOccurrences("86400", with: "604801") },
             code: .authorizationQueryParametersError,
             message: "X-Amz-Expires must be less than a week (in seconds) that is; 604800"),
        Case(name: "presigned negative expiry", request: presignedQuery { $0.replacingOccurrences("86400", with: "-1") },
             code: .authorizationQueryParametersError, message: "X-Amz-Expires must be non-negative"),
        Case(name: "presigned missing parameter",
             request: presignedQuery { $0.replacingOccurrences("&X-Amz-SignedHeaders=host", with: "") },
             code: .authorizationQueryParametersError),
        Case(name: "presigned other algorithm",
             request: presignedQuery { $0.replacingOccurrences("AWS4-HMAC-SHA256", with: "AWS4-HMAC-SHA1") },
             code: .authorizationQueryParametersError),
        Case(name: "presigned tampered path", request: { var f = presigned; f.path = "/test.txu"; return f }(),
             code: .signatureDoesNotMatch),
        Case(name: "presigned extra parameter", request: presignedQuery { $0 + "&versionId=1" }, code: .signatureDoesNotMatch),
        Case(name: "SigV2 unknown key",
             request: Fixture(method: "GET", path: "/b/k", query: "", headers: [
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Authorization", "AWS NOSUCHKEY:abc=")]),
             code: .invalidAccessKeyId),
        Case(name: "SigV2 skewed",
             request: Fixture(method: "GET", path: "/b/k", query: "", headers: [
                ("Date", "Fri, 24 May 2013 01:00:00 GMT"), ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:abc=")]),
             code: .requestTimeTooSkewed),
        Case(name: "SigV2 query missing Expires",
             request: Fixture(method: "GET", path: "/b/k", query: "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=abc", headers: []),
             code: .accessDenied),
        Case(name: "SigV2 with a signed streaming body",
             request: BotocoreFixtures.sigV2[0].replacing(header: "x-amz-content-sha256", with: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
             now: Example.botocoreTime, code: .invalidArgument),
    ]

    @Test(arguments: cases)
    func refuses(_ testCase: Case) {
        let authenticator = Example.authenticator(region: testCase.region)
        let error = failure { () throws(AuthFailure) in try authenticator.authenticate(testCase.request.parts, now: testCase.now) }
        #expect(error?.code == testCase.code, "\(String(describing: error))")
        if let message = testCase.message {
            #expect(error?.message == message)
        }
        if let detailNames = testCase.detailNames {
            #expect(error?.details.map(\.0) == detailNames)
        }
    }

    @Test func skewDetailsMatchAWS() {
        let now = Example.awsDocTime.addingTimeInterval(3600)
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(Self.getExample.parts, now: now) }
        #expect(error == AuthFailure(
            code: .requestTimeTooSkewed,
            message: "The difference between the request time and the current time is too large.",
            details: [("RequestTime", "20130524T000000Z"), ("ServerTime", "2013-05-24T01:00:00Z"),
                      ("MaxAllowedSkewMilliseconds", "900000")]))
    }

    @Test func expiredDetailsMatchAWS() {
        let now = Example.awsDocTime.addingTimeInterval(90_000)
        let error = failure { () throws(AuthFailure) in try Example.authenticator().authenticate(Self.presigned.parts, now: now) }
        #expect(error == AuthFailure(
            code: .accessDenied, message: "Request has expired",
            details: [("X-Amz-Expires", "86400"), ("Expires", "2013-05-25T00:00:00Z"), ("ServerTime", "2013-05-25T01:00:00Z")]))
    }

    @Test func anonymousRequestPassesThrough() throws {
        let request = Fixture(method: "GET", path: "/bucket/key", query: "", headers: [("Host", "example.com")])
        let verified = try Example.authenticator().authenticate(request.parts, now: Example.awsDocTime)
        #expect(verified.accessKey == nil)
        #expect(verified.signatureVersion == .anonymous)
        #expect(!verified.isPresigned)
    }
}
