import Digest
import Foundation

/// Signs a request with SigV4 (Authorization header), for Martlet's own clients such as `martlet admin`.
public struct SigV4Signer: Sendable {
    public var accessKey: String
    public var secretKey: String
    public var region: String
    public var service: String

    public init(accessKey: String, secretKey: String, region: String, service: String = "s3") {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
        self.service = service
    }

    /// The headers to add: `x-amz-date`, `x-amz-content-sha256` and `Authorization`. `rawPath` and `rawQuery` as
    /// they go on the wire; `host` as the Host header will say.
    public func sign(
        method: String, rawPath: String, rawQuery: String, host: String, body: [UInt8], at time: Date
    ) -> [(name: String, value: String)] {
        let amzDate = AWSDate.iso8601Basic(time)
        let payloadHash = SHA256.hash(body).hexString
        let headers: [(name: String, value: String)] = [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        let parts = HTTPRequestParts(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers)
        let signedHeaders = headers.map(\.name)
        let date = String(amzDate.prefix(8))
        let canonical = SigV4.canonicalRequest(
            method: method, uri: SigV4.canonicalURI(rawPath: rawPath),
            query: SigV4.canonicalQuery(QueryParameters(rawQuery: rawQuery)),
            headers: SigV4.canonicalHeaders(parts, signedHeaders: signedHeaders), signedHeaders: signedHeaders,
            payloadHash: payloadHash)
        let scope = SigV4.scope(date: date, region: region, service: service)
        let key = SigV4.signingKey(secretKey: secretKey, date: date, region: region, service: service)
        let signature = SigV4.signature(signingKey: key, stringToSign: SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical))
        return [
            ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash),
            ("Authorization", "\(SigV4.algorithm) Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"),
        ]
    }
}
