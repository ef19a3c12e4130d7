import Digest
import Foundation

extension RequestAuthenticator {
    /// Authenticates a browser POST upload by its form fields (lowercased names): SigV4 (`x-amz-algorithm`,
    /// `x-amz-credential`, `x-amz-date`, `x-amz-signature`) or SigV2 (`AWSAccessKeyId`, `signature`) over the
    /// base64 `policy`, or anonymous when the form names no key and carries no policy. The policy comes back
    /// parsed, for the caller to check once the key is known.
    public func authenticatePost(fields: [String: String]) throws(AuthFailure) -> (VerifiedRequest, PostPolicy?) {
        let isV4 = fields["x-amz-algorithm"] != nil || fields["x-amz-credential"] != nil || fields["x-amz-signature"] != nil
        let isV2 = fields["awsaccesskeyid"] != nil || fields["signature"] != nil
        if isV4 && isV2 { throw .multipleAuthMechanisms }
        if !isV4 && !isV2 {
            // AWS requires AWSAccessKeyId "if a policy document is included with the request": a policy nobody
            // signed binds nobody, so it is refused unread rather than decoded for an anonymous caller.
            if fields["policy"] != nil { _ = try Self.required("awsaccesskeyid", fields) }
            return (VerifiedRequest(accessKey: nil, caller: .anonymous, signatureVersion: .anonymous, payload: .unsigned, isPresigned: false), nil)
        }
        let policyText = try Self.required("policy", fields)
        let accessKey: String
        let version: SignatureVersion
        let caller: Caller
        if isV4 {
            let algorithm = try Self.required("x-amz-algorithm", fields)
            guard algorithm == SigV4.algorithm else {
                throw AuthFailure(code: .invalidArgument, message: "The specified x-amz-algorithm is not supported: \(algorithm)")
            }
            let credentialText = try Self.required("x-amz-credential", fields)
            let amzDate = try Self.required("x-amz-date", fields)
            let claimed = try Self.required("x-amz-signature", fields)
            let credential: SigV4Credential
            switch SigV4Credential.parse(credentialText, expectedRegion: region) {
            case .success(let parsed): credential = parsed
            case .failure(let problem):
                let failure = SigV4Credential.queryFailure(problem, expectedRegion: region)
                throw AuthFailure(code: .invalidArgument, message: failure.message, details: failure.details)
            }
            guard AWSDate.parseISO8601Basic(amzDate) != nil, amzDate.hasPrefix(credential.date) else {
                throw AuthFailure(code: .invalidArgument, message: "Invalid x-amz-date \"\(amzDate)\" for credential date \"\(credential.date)\".")
            }
            let secret = try self.credential(for: credential.accessKey)
            let signingKey = SigV4.signingKey(secretKey: secret.secretKey, date: credential.date, region: credential.region)
            let expected = SigV4.signature(signingKey: signingKey, stringToSign: policyText)
            guard constantTimeEquals(Array(expected.utf8), Array(claimed.lowercased().utf8)) else {
                throw .signatureMismatch(details: [("AWSAccessKeyId", credential.accessKey)])
            }
            accessKey = credential.accessKey
            version = .v4
            caller = secret.caller
        } else {
            accessKey = try Self.required("awsaccesskeyid", fields)
            let claimed = try Self.required("signature", fields)
            let secret = try self.credential(for: accessKey)
            let expected = SigV2.signature(secretKey: secret.secretKey, stringToSign: policyText).base64String
            guard constantTimeEquals(Array(expected.utf8), Array(claimed.utf8)) else {
                throw .signatureMismatch(details: [("AWSAccessKeyId", accessKey)])
            }
            version = .v2
            caller = secret.caller
        }
        let policy = try PostPolicy.parse(base64: policyText)
        return (VerifiedRequest(accessKey: accessKey, caller: caller, signatureVersion: version, payload: .unsigned, isPresigned: false), policy)
    }

    /// A field a signed form must have; AWS names it in the error.
    static func required(_ name: String, _ fields: [String: String]) throws(AuthFailure) -> String {
        guard let value = fields[name] else {
            let shown = ["awsaccesskeyid": "AWSAccessKeyId", "signature": "Signature"][name] ?? name
            throw AuthFailure(
                code: .invalidArgument,
                message: "Bucket POST must contain a field named '\(shown)'.  If it is specified, please check the order of the fields.",
                details: [("ArgumentName", shown)])
        }
        return value
    }
}
