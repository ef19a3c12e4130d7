import Testing

@testable import S3Auth

/// Block Public Access's rule for a bucket policy: a statement granting to everyone is public unless a condition
/// pins a fixed value of a confining key with a test that fails when the key is absent.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
@Suite("Public policy rule: vacuous, negated and wildcard conditions confine no one")
struct PolicyPublicRuleTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// The statements of the policy, as JSON.
        let statements: String
        let isPublic: Bool
        /// Whether the evaluator lets an anonymous GET from 127.0.0.1 through this policy, as an IPv4 listener
        /// or as a dual-stack one (::ffff:127.0.0.1) reports the address.
        let anonymousGetsIn: Bool
        var testDescription: String { name }
    }

    /// An Allow of s3:GetObject to everyone with the given Condition block.
    static func everyone(_ condition: String) -> String {
        #"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": "#
            + condition + "}"
    }

    static let publicCases: [Case] = [
        // The reported bypasses: each of these holds for a caller without the key.
        Case(name: "StringEqualsIfExists on aws:SourceAccount",
             statements: everyone(#"{"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "ForAllValues:StringEquals on aws:SourceAccount",
             statements: everyone(#"{"ForAllValues:StringEquals": {"aws:SourceAccount": "111111111111"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "two /1 blocks cover every IPv4 address",
             statements: everyone(#"{"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "StringEqualsIfExists on aws:userid",
             statements: everyone(#"{"StringEqualsIfExists": {"aws:userid": "AIDAEXAMPLE"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "StringEqualsIfExists on aws:PrincipalOrgID",
             statements: everyone(#"{"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdef1234"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "a vacuous IfExists beside IpAddress 0.0.0.0/0",
             statements: everyone(#"{"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}, "IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#),
             isPublic: true, anonymousGetsIn: true),
        Case(name: "ForAnyValue:StringEqualsIfExists is still IfExists",
             statements: everyone(#"{"ForAnyValue:StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "IpAddressIfExists on aws:SourceIp",
             statements: everyone(#"{"IpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"}}"#), isPublic: true, anonymousGetsIn: false),
        // Negated operators hold for everyone but the values they name.
        Case(name: "StringNotEquals on aws:SourceAccount",
             statements: everyone(#"{"StringNotEquals": {"aws:SourceAccount": "111111111111"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "StringNotEqualsIgnoreCase on aws:SourceVpc",
             statements: everyone(#"{"StringNotEqualsIgnoreCase": {"aws:SourceVpc": "vpc-1a2b3c4d"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "StringNotLike on aws:SourceVpce",
             statements: everyone(#"{"StringNotLike": {"aws:SourceVpce": "vpce-1a2b3c4d"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "NotIpAddress on aws:SourceIp",
             statements: everyone(#"{"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "ArnNotEquals on aws:SourceArn",
             statements: everyone(#"{"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:t"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "ArnNotLike on aws:SourceArn",
             statements: everyone(#"{"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:t"}}"#), isPublic: true, anonymousGetsIn: true),
        // Wildcards and policy variables are not fixed values.
        Case(name: "a wildcard account",
             statements: everyone(#"{"StringLike": {"aws:SourceAccount": "1111*"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "a ? wildcard in a VPC id",
             statements: everyone(#"{"StringLike": {"aws:SourceVpc": "vpc-1a2b3c4?"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "* under StringEquals counts as a wildcard",
             statements: everyone(#"{"StringEquals": {"aws:SourceAccount": "*"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "one wildcard among fixed values",
             statements: everyone(#"{"StringLike": {"aws:SourceAccount": ["111111111111", "*"]}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "a wildcard ARN",
             statements: everyone(#"{"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111111111111:*"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "aws:userid in the pattern AROLEID:*",
             statements: everyone(#"{"StringLike": {"aws:userid": "AROAEXAMPLE:*"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "a policy variable",
             statements: everyone(#"{"StringEquals": {"aws:userid": "${aws:username}"}}"#), isPublic: true, anonymousGetsIn: false),
        // Address blocks wider than /8 (IPv4) or /32 (IPv6).
        Case(name: "IPv4 /7", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "126.0.0.0/7"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "IPv4 /0", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "a narrow block beside a /0",
             statements: everyone(#"{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "0.0.0.0/0"]}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "IPv6 /31", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "IPv6 ::/0", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "::/0"}}"#), isPublic: true, anonymousGetsIn: true),
        // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d: these IPv6 blocks hold all of them.
        Case(name: "IPv6 ::/32 holds every IPv4-mapped address",
             statements: everyone(#"{"IpAddress": {"aws:SourceIp": "::/32"}}"#), isPublic: true, anonymousGetsIn: true),
        Case(name: "the IPv4-mapped /96", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "::ffff:0.0.0.0/96"}}"#),
             isPublic: true, anonymousGetsIn: true),
        Case(name: "an IPv4-mapped /103 is an IPv4 /7", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "::ffff:126.0.0.0/103"}}"#),
             isPublic: true, anonymousGetsIn: true),
        // Operators and keys that pin nothing.
        Case(name: "Null only asks that the key be present",
             statements: everyone(#"{"Null": {"aws:SourceAccount": "false"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "StringEquals on aws:SourceIp is no address test",
             statements: everyone(#"{"StringEquals": {"aws:SourceIp": "192.0.2.7"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "a key outside the list",
             statements: everyone(#"{"StringEquals": {"aws:Referer": "https://example.com/"}}"#), isPublic: true, anonymousGetsIn: false),
        Case(name: "Bool on aws:SecureTransport",
             statements: everyone(#"{"Bool": {"aws:SecureTransport": "false"}}"#), isPublic: true, anonymousGetsIn: true),
        // Principals.
        Case(name: "AWS * among accounts is everyone",
             statements: #"{"Effect": "Allow", "Principal": {"AWS": ["111122223333", "*"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#,
             isPublic: true, anonymousGetsIn: true),
        Case(name: "NotPrincipal with a vacuous condition",
             statements: #"{"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}}"#,
             isPublic: true, anonymousGetsIn: true),
        // One public statement makes the policy public, whatever the others say.
        Case(name: "a confined statement beside a vacuous one",
             statements: everyone(#"{"StringEquals": {"aws:SourceAccount": "111111111111"}}"#) + ", "
                 + everyone(#"{"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}"#),
             isPublic: true, anonymousGetsIn: true),
    ]

    static let confinedCases: [Case] = [
        Case(name: "StringEquals on aws:SourceAccount",
             statements: everyone(#"{"StringEquals": {"aws:SourceAccount": "111111111111"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "ForAnyValue:StringEquals on aws:SourceAccount (false without the key)",
             statements: everyone(#"{"ForAnyValue:StringEquals": {"aws:SourceAccount": "111111111111"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "condition keys compare case-insensitively",
             statements: everyone(#"{"StringEquals": {"AWS:SOURCEACCOUNT": "111111111111"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "StringEquals on aws:userid",
             statements: everyone(#"{"StringEquals": {"aws:userid": "AIDAEXAMPLE"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "StringEquals on aws:PrincipalOrgID",
             statements: everyone(#"{"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "StringEqualsIgnoreCase on aws:SourceVpc",
             statements: everyone(#"{"StringEqualsIgnoreCase": {"aws:SourceVpc": "vpc-1a2b3c4d"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "StringLike without wildcards on aws:SourceVpce",
             statements: everyone(#"{"StringLike": {"aws:SourceVpce": "vpce-1a2b3c4d"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "ArnEquals on aws:SourceArn",
             statements: everyone(#"{"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:t"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "StringEquals on aws:SourceOwner",
             statements: everyone(#"{"StringEquals": {"aws:SourceOwner": "111111111111"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "StringEquals on s3:DataAccessPointAccount",
             statements: everyone(#"{"StringEquals": {"s3:DataAccessPointAccount": "111111111111"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "ArnEquals on s3:DataAccessPointArn",
             statements: everyone(#"{"ArnEquals": {"s3:DataAccessPointArn": "arn:aws:s3:us-east-1:111111111111:accesspoint/ap"}}"#),
             isPublic: false, anonymousGetsIn: false),
        Case(name: "several fixed accounts",
             statements: everyone(#"{"StringEquals": {"aws:SourceAccount": ["111111111111", "222222222222"]}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "a vacuous IfExists beside a fixed test",
             statements: everyone(#"{"StringEqualsIfExists": {"aws:userid": "AIDAEXAMPLE"}, "StringEquals": {"aws:SourceAccount": "111111111111"}}"#),
             isPublic: false, anonymousGetsIn: false),
        Case(name: "one address", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "192.0.2.7"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "IPv4 /24 blocks", statements: everyone(#"{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"]}}"#),
             isPublic: false, anonymousGetsIn: false),
        Case(name: "IPv4 /8 is as wide as allowed", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#),
             isPublic: false, anonymousGetsIn: false),
        Case(name: "the loopback /8 (not public, though it holds 127.0.0.1)",
             statements: everyone(#"{"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}"#), isPublic: false, anonymousGetsIn: true),
        Case(name: "IPv6 /32 is as wide as allowed", statements: everyone(#"{"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}"#),
             isPublic: false, anonymousGetsIn: false),
        Case(name: "an IPv4-mapped /104 is an IPv4 /8",
             statements: everyone(#"{"IpAddress": {"aws:SourceIp": "::ffff:10.0.0.0/104"}}"#), isPublic: false, anonymousGetsIn: false),
        Case(name: "NotPrincipal confined by a fixed account",
             statements: #"{"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}}"#,
             isPublic: false, anonymousGetsIn: false),
        Case(name: "a Deny to everyone with a vacuous condition",
             statements: #"{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}}"#,
             isPublic: false, anonymousGetsIn: false),
        Case(name: "an account principal with a vacuous condition",
             statements: #"{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}}"#,
             isPublic: false, anonymousGetsIn: false),
    ]

    static func parse(_ statements: String) throws -> PolicyDocument {
        try PolicyDocument.parse(Array((#"{"Version": "2012-10-17", "Statement": ["# + statements + "]}").utf8), kind: .resource)
    }

    @Test("public", arguments: publicCases)
    func isPublic(_ check: Case) throws {
        #expect(try Self.parse(check.statements).isPublic == check.isPublic)
        try expectAnonymousAccess(check)
    }

    @Test("not public", arguments: confinedCases)
    func isConfined(_ check: Case) throws {
        #expect(try Self.parse(check.statements).isPublic == check.isPublic)
        try expectAnonymousAccess(check)
    }

    /// The rule must agree with evaluation: a policy called non-public must not let an anonymous caller in
    /// except through a narrow block that holds its address.
    private func expectAnonymousAccess(_ check: Case) throws {
        let policy = try Self.parse(check.statements)
        let owner = AccountIdentity(id: "111111111111", canonicalID: String(repeating: "a", count: 64))
        let admittedFrom = ["127.0.0.1", "::ffff:127.0.0.1"].filter { address in
            let request = AuthorizationRequest(
                caller: .anonymous, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resourceOwner: owner,
                context: ["aws:sourceip": [address], "aws:securetransport": ["false"]])
            return PolicyEvaluator.decide(request, identityPolicies: [], bucketPolicy: policy, acl: .none) == .allow
        }
        #expect(!admittedFrom.isEmpty == check.anonymousGetsIn, "admitted from \(admittedFrom)")
    }
}

@Suite("IpAddress conditions name addresses or CIDR blocks")
struct PolicyAddressValidationTests {
    static func document(_ op: String, _ values: String, kind: PolicyDocument.Kind, effect: String = "Allow") -> String {
        let principal = kind == .resource ? #""Principal": "*", "# : ""
        return #"{"Statement": [{"Effect": ""# + effect + #"", "# + principal
            + #""Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {""# + op
            + #"": {"aws:SourceIp": "# + values + "}}}]}"
    }

    @Test("a value that is not an address or block is named, so that storing the policy is refused", arguments: [
        "300.1.1.1/8", "1.2.3.4/33", "abc", "2001:db8::/129", "1.2.3.4/", "1.2.3.4/+8", "1.2.3.4/-0", "1.2.3.4/0008",
        "1.2.3.4/8/8", "fe80::1%eth0", "", " 1.2.3.4", "1.2.3.4.5", "${aws:SourceIp}", "+1.2.3.4", "1.2.3.+4",
        "2001:db8::+1", "2001:db8::-1/64", "2001:db8:::1", "1.2.3.4/٨",
    ])
    func refused(_ value: String) throws {
        for kind in [PolicyDocument.Kind.resource, .identity] {
            for op in ["IpAddress", "NotIpAddress", "IpAddressIfExists", "ForAnyValue:IpAddress"] {
                let json = Self.document(op, #"["192.0.2.0/24", ""# + value + #""]"#, kind: kind)
                #expect(try PolicyDocument.parse(Array(json.utf8), kind: kind).invalidAddress == value, "\(op) \(kind)")
            }
        }
    }

    @Test("addresses and blocks of both families are accepted", arguments: [
        "1.2.3.4", "1.2.3.4/32", "10.0.0.0/8", "0.0.0.0/0", "10.1.2.3/8", "2001:db8::/32", "::1", "::/0", "2001:db8::/128",
        "::ffff:10.0.0.0/104",
    ])
    func accepted(_ value: String) throws {
        let json = Self.document("IpAddress", #"""# + value + #"""#, kind: .identity)
        #expect(try PolicyDocument.parse(Array(json.utf8), kind: .identity).invalidAddress == nil)
    }

    @Test("only the address operators check their values as addresses")
    func otherOperators() throws {
        let json = Self.document("StringLike", #""10.*""#, kind: .identity)
        #expect(try PolicyDocument.parse(Array(json.utf8), kind: .identity).invalidAddress == nil)
    }

    @Test("a document stored before the check still loads, and its Deny still binds")
    func storedBeforeTheCheck() throws {
        // NotIpAddress of a value that is no address holds for every caller: this Deny refuses everyone.
        let json = Self.document("NotIpAddress", #""300.1.1.1/8""#, kind: .resource, effect: "Deny")
        let policy = try PolicyDocument.parse(Array(json.utf8), kind: .resource)
        let owner = AccountIdentity(id: "111111111111", canonicalID: String(repeating: "a", count: 64))
        let request = AuthorizationRequest(
            caller: .root(owner), action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resourceOwner: owner,
            context: ["aws:sourceip": ["192.0.2.1"]])
        #expect(PolicyEvaluator.decide(request, identityPolicies: [], bucketPolicy: policy, acl: .none) == .deny(explicit: true))
    }

    @Test("how wide a block may be and still confine its callers", arguments: [
        ("10.0.0.0/8", true), ("10.0.0.0/7", false), ("192.0.2.7", true), ("0.0.0.0/1", false),
        ("2001:db8::/32", true), ("2001:db8::/31", false), ("2001:db8::1", true), ("::/32", false), ("::/96", true),
        ("::ffff:0:0/96", false), ("::ffff:10.0.0.0/104", true), ("::ffff:10.0.0.0/103", false), ("::fffe:0:0/96", true),
        ("::ffff:192.0.2.7", true),
    ] as [(String, Bool)])
    func width(_ pair: (String, Bool)) throws {
        let range = try #require(IPAddressRange(pair.0))
        #expect(range.confinesCallers == pair.1)
    }
}
