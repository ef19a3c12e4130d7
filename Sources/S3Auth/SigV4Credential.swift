/// The parts of a SigV4 Authorization header:
/// `AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex`
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
struct SigV4AuthorizationHeader {
    let credential: String
    let signedHeaders: [String]
    let signature: String

    /// Parses everything after the algorithm name; tolerates missing or extra spaces around the
    /// commas and components in any order.
    init(parameters: Substring) throws(AuthFailure) {
        var fields: [String: String] = [:]
        for component in parameters.split(separator: ",") {
            let trimmed = component.trimmingSpaces
            guard !trimmed.isEmpty else { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw .headerMalformed("the authorization component \"\(trimmed)\" is malformed.")
            }
            fields[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw .headerMalformed(
                "the authorization header requires three components: Credential, SignedHeaders, and Signature.")
        }
        self.credential = credential
        self.signedHeaders = SigV4AuthorizationHeader.splitSignedHeaders(signedHeaders)
        self.signature = asciiLowercased(signature)
    }

    /// SignedHeaders is "a;b;c" of lowercase names; lowercasing again is harmless and lenient.
    static func splitSignedHeaders(_ value: String) -> [String] {
        value.split(separator: ";").map { asciiLowercased(String($0.trimmingSpaces)) }.filter { !$0.isEmpty }
    }
}

/// The credential "AK/date/region/service/aws4_request", checked against this server.
struct SigV4Credential {
    let accessKey: String
    let date: String
    let region: String
    let service: String

    /// What can be wrong with a credential; the header and query forms word each differently.
    enum Problem: Error {
        case malformed
        case wrongRegion(String)
        case wrongService(String)
        case wrongTerminator(String)
        case dateMismatch(credentialDate: String, requestDate: String)
    }

    /// Built once: a default argument's literal would build and hash a new set on every request.
    static let s3Only: Set<String> = [SigV4.service]

    /// Splits from the right, so the access key is everything before the last four fields.
    /// `services` other than `s3` (the query APIs) may sign for `us-east-1` as well as the server's region: IAM
    /// and STS are global services, which SDKs sign for there.
    static func parse(_ value: String, expectedRegion: String, services: Set<String> = s3Only) -> Result<SigV4Credential, Problem> {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 5 else { return .failure(.malformed) }
        let tail = parts.suffix(4).map(String.init)
        let accessKey = parts.dropLast(4).joined(separator: "/")
        guard !accessKey.isEmpty, tail[0].utf8.count == 8, tail[0].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return .failure(.malformed) }
        let isGlobalService = tail[2] != SigV4.service && services.contains(tail[2])
        guard tail[1] == expectedRegion || (isGlobalService && tail[1] == "us-east-1") else { return .failure(.wrongRegion(tail[1])) }
        guard services.contains(tail[2]) else { return .failure(.wrongService(tail[2])) }
        guard tail[3] == SigV4.terminator else { return .failure(.wrongTerminator(tail[3])) }
        return .success(SigV4Credential(accessKey: accessKey, date: tail[0], region: tail[1], service: tail[2]))
    }

    /// The failure for the Authorization header form.
    static func headerFailure(_ problem: Problem, expectedRegion: String) -> AuthFailure {
        switch problem {
        case .malformed:
            .headerMalformed(
                "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        case .wrongRegion(let region):
            .headerMalformed(
                "the region '\(region)' is wrong; expecting '\(expectedRegion)'", details: [("Region", expectedRegion)])
        case .wrongService(let service):
            .headerMalformed("incorrect service \"\(service)\". This endpoint belongs to \"\(SigV4.service)\".")
        case .wrongTerminator(let terminator):
            .headerMalformed("incorrect terminal \"\(terminator)\". This endpoint uses \"\(SigV4.terminator)\".")
        case .dateMismatch(let credentialDate, let requestDate):
            .headerMalformed(
                "Invalid credential date \"\(credentialDate)\". This date is not the same as X-Amz-Date: \"\(requestDate)\".")
        }
    }

    /// The failure for the presigned X-Amz-Credential form.
    static func queryFailure(_ problem: Problem, expectedRegion: String) -> AuthFailure {
        let prefix = "Error parsing the X-Amz-Credential parameter; "
        return switch problem {
        case .malformed:
            .queryParametersError(
                prefix + "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        case .wrongRegion(let region):
            .queryParametersError(
                prefix + "the region '\(region)' is wrong; expecting '\(expectedRegion)'",
                details: [("Region", expectedRegion)])
        case .wrongService(let service):
            .queryParametersError(
                prefix + "incorrect service \"\(service)\". This endpoint belongs to \"\(SigV4.service)\".")
        case .wrongTerminator(let terminator):
            .queryParametersError(
                prefix + "incorrect terminal \"\(terminator)\". This endpoint uses \"\(SigV4.terminator)\".")
        case .dateMismatch(let credentialDate, let requestDate):
            .queryParametersError(
                prefix + "Invalid credential date \"\(credentialDate)\". This date is not the same as X-Amz-Date: \"\(requestDate)\".")
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[start...end]
    }
}
