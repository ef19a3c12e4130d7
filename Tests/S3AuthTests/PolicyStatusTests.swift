import Testing

@testable import S3Auth

@Suite("Policy status: when a bucket policy is public, and how its size is counted")
struct PolicyStatusTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let statement: String
        let isPublic: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "everyone may read", statement: #""Principal": "*""#, isPublic: true),
        Case(name: "AWS * is everyone", statement: #""Principal": {"AWS": "*"}"#, isPublic: true),
        Case(name: "one account is not public", statement: #""Principal": {"AWS": "111122223333"}"#, isPublic: false),
        Case(name: "NotPrincipal reaches everyone else", statement: #""NotPrincipal": {"AWS": "111122223333"}"#, isPublic: true),
        Case(name: "pinned to an address range",
             statement: #""Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}"#, isPublic: false),
        Case(name: "an address range of everything pins nothing",
             statement: #""Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#, isPublic: true),
        Case(name: "pinned to an account",
             statement: #""Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}"#, isPublic: false),
        Case(name: "a wildcard account pins nothing",
             statement: #""Principal": "*", "Condition": {"StringLike": {"aws:PrincipalAccount": "1111*"}}"#, isPublic: true),
        Case(name: "a negated test pins nothing",
             statement: #""Principal": "*", "Condition": {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}"#, isPublic: true),
        Case(name: "other condition keys pin nothing",
             statement: #""Principal": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}"#, isPublic: true),
    ]

    @Test(arguments: cases)
    func publicness(_ check: Case) throws {
        let json = #"{"Statement": [{"Effect": "Allow", "#+check.statement+#", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}"#
        #expect(try PolicyDocument.parse(Array(json.utf8), kind: .resource).isPublic == check.isPublic)
    }

    @Test("a Deny to everyone is not public")
    func denyIsNotPublic() throws {
        let json = #"{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}"#
        #expect(try PolicyDocument.parse(Array(json.utf8), kind: .resource).isPublic == false)
    }

    @Test("size counts everything but whitespace between tokens", arguments: [
        (#"{"a": "b c"}"#, 11), ("{\n  \"a\" :\t[1, 2]\n}", 11), (#"{"a\" ": 1}"#, 10),
    ])
    func compactSize(_ pair: (String, Int)) {
        #expect(PolicyDocument.compactSize(Array(pair.0.utf8)) == pair.1)
    }
}

@Suite("A bucket policy names only its own bucket")
struct PolicyResourceScopeTests {
    @Test(arguments: [
        ("arn:aws:s3:::photos", nil), ("arn:aws:s3:::photos/*", nil), ("arn:aws:s3:::photos/a/b.jpg", nil),
        ("arn:aws:s3:::*", nil), ("arn:aws:s3:::*/*", nil), ("arn:aws:s3:::pho*", nil), ("*", nil),
        ("arn:aws:s3:::other/*", "arn:aws:s3:::other/*"), ("arn:aws:s3:::photos2/*", "arn:aws:s3:::photos2/*"),
        ("arn:aws:s3:::photosx*", "arn:aws:s3:::photosx*"),
    ] as [(String, String?)])
    func scope(_ pair: (String, String?)) throws {
        let json = #"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": ""#+pair.0+#""}]}"#
        #expect(try PolicyDocument.parse(Array(json.utf8), kind: .resource).resourceOutside(bucket: "photos") == pair.1)
    }
}

@Suite("What the authorizer asks of a bucket policy")
struct PolicyQueryTests {
    static func parse(_ statements: String) throws -> PolicyDocument {
        try PolicyDocument.parse(Array(#"{"Statement": ["#.utf8) + Array(statements.utf8) + Array("]}".utf8), kind: .resource)
    }

    @Test("principals must be everyone, 12-digit accounts, their IAM ARNs or canonical ids", arguments: [
        (#"{"AWS": "*"}"#, nil), (#"{"AWS": "111122223333"}"#, nil), (#"{"AWS": "arn:aws:iam::111122223333:root"}"#, nil),
        (#"{"AWS": "arn:aws:iam::111122223333:user/team/ann"}"#, nil),
        (#"{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#, nil),
        (#"{"AWS": "arn:aws:iam::s3tenant1:root"}"#, "arn:aws:iam::s3tenant1:root"),
        (#"{"AWS": "arn:aws:iam::111122223333:group/x"}"#, "arn:aws:iam::111122223333:group/x"),
        (#"{"CanonicalUser": "abc"}"#, "abc"),
    ] as [(String, String?)])
    func principals(_ pair: (String, String?)) throws {
        let policy = try Self.parse(#"{"Effect": "Allow", "Principal": "#+pair.0+#", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#)
        #expect(policy.invalidPrincipal == pair.1)
    }

    @Test("denialsOnly keeps the Deny statements alone")
    func denials() throws {
        let policy = try Self.parse(#"""
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}
            """#)
        #expect(policy.denialsOnly.statements.map(\.effect) == [.deny])
    }

    @Test("only a condition on s3:ExistingObjectTag makes the authorizer read the object's tags")
    func existingTags() throws {
        let tagged = try Self.parse(#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"s3:ExistingObjectTag/team": "a"}}}"#)
        let other = try Self.parse(#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"s3:RequestObjectTag/team": "a"}}}"#)
        #expect(tagged.mentionsExistingObjectTags)
        #expect(!other.mentionsExistingObjectTags)
    }
}

@Suite("When the authorizer gathers the request's condition keys")
struct PolicyRequestKeysTests {
    @Test(arguments: [
        (#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#, false),
        (#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}"#, true),
        (#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/home/${aws:username}/*"}"#, true),
    ])
    func readsKeys(_ pair: (String, Bool)) throws {
        let policy = try PolicyDocument.parse(Array((#"{"Statement": ["# + pair.0 + "]}").utf8), kind: .resource)
        #expect(policy.readsRequestKeys == pair.1)
    }
}
