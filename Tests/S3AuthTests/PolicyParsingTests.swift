import Testing

@testable import S3Auth

@Suite("Policy documents: parsing and AWS's MalformedPolicy messages")
struct PolicyParsingTests {
    static func parse(_ json: String, _ kind: PolicyDocument.Kind = .resource) throws(MalformedPolicy) -> PolicyDocument {
        try PolicyDocument.parse(Array(json.utf8), kind: kind)
    }

    @Test("a bucket policy with single values, lists, NotPrincipal and a condition block")
    func parsesBucketPolicy() throws {
        let policy = try Self.parse("""
            {"Version": "2012-10-17", "Id": "p1", "Statement": [
              {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
               "Resource": "arn:aws:s3:::photos/public/*"},
              {"Sid": "Team", "Effect": "Deny", "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/ann"]},
               "NotAction": ["s3:Get*", "s3:List*"], "NotResource": "arn:aws:s3:::photos/keep/*",
               "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": 10}}}
            ]}
            """)
        #expect(policy.version == "2012-10-17")
        #expect(policy.statements.count == 2)
        #expect(policy.statements[0].principal?.everyone == true)
        #expect(policy.statements[0].actions == .init(values: ["s3:GetObject"], negated: false))
        let team = policy.statements[1]
        #expect(team.effect == .deny)
        #expect(team.notPrincipal?.aws == ["111122223333", "arn:aws:iam::111122223333:user/ann"])
        #expect(team.actions == .init(values: ["s3:Get*", "s3:List*"], negated: true))
        #expect(team.resources.negated)
        #expect(team.conditions.map(\.values) == [["false"], ["10"]])
        #expect(team.conditions.map(\.condition.comparison) == [.bool, .numericLessThan])
    }

    @Test("a single statement object stands for a list of one; an identity policy names no principal")
    func parsesIdentityPolicy() throws {
        let policy = try Self.parse(
            #"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::b/*"}}"#,
            .identity)
        #expect(policy.statements.first?.principal == nil)
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        let testDescription: String
        let json: String
        let kind: PolicyDocument.Kind
        let message: String
        init(_ name: String, _ json: String, _ message: String, kind: PolicyDocument.Kind = .resource) {
            (testDescription, self.json, self.message, self.kind) = (name, json, message, kind)
        }
    }

    static let statement = #""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#

    static let malformed: [Malformed] = [
        Malformed("not JSON", "{nope", "Policies must be valid JSON and the first byte must be '{'"),
        Malformed("a list at the top", "[]", "Policies must be valid JSON and the first byte must be '{'"),
        Malformed("no statement", #"{"Version":"2012-10-17"}"#, "Missing required field Statement"),
        Malformed("an empty statement list", #"{"Statement":[]}"#, "Could not parse the policy: Statement is empty!"),
        Malformed("an unknown top-level field", #"{"Statement":[{\#(statement)}],"Extra":1}"#, "Unknown field Extra"),
        Malformed("an unknown version", #"{"Version":"2020-01-01","Statement":[{\#(statement)}]}"#, "Invalid policy version: 2020-01-01"),
        Malformed("no effect", #"{"Statement":[{"Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#, "Missing required field Effect"),
        Malformed("a bad effect", #"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#, "Invalid effect: Maybe"),
        Malformed("no action", #"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#, "Missing required field Action"),
        Malformed("an action without a service", #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"GetObject","Resource":"*"}]}"#, "Policy has invalid action"),
        Malformed("a resource that is no ARN", #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"b/*"}]}"#, "Policy has invalid resource"),
        Malformed("a bucket policy without a principal", #"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#, "Missing required field Principal"),
        Malformed("an identity policy with a principal", #"{"Statement":[{\#(statement)}]}"#, "Policy document should not specify a principal.", kind: .identity),
        Malformed("a principal that is neither * nor a map", #"{"Statement":[{"Effect":"Allow","Principal":"bob","Action":"s3:GetObject","Resource":"*"}]}"#, "Invalid principal in policy"),
        Malformed("an AWS principal that is no account or ARN", #"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"*"}]}"#, "Invalid principal in policy"),
        Malformed("an unknown condition operator", #"{"Statement":[{\#(statement),"Condition":{"StringSorta":{"aws:Referer":"x"}}}]}"#, "Invalid Condition type : StringSorta"),
        Malformed("Null with IfExists", #"{"Statement":[{\#(statement),"Condition":{"NullIfExists":{"aws:Referer":"true"}}}]}"#, "Invalid Condition type : NullIfExists"),
        Malformed("a condition key without a prefix", #"{"Statement":[{\#(statement),"Condition":{"StringEquals":{"Referer":"x"}}}]}"#, "Policy has an invalid condition key"),
        Malformed("repeated statement ids", #"{"Statement":[{"Sid":"a",\#(statement)},{"Sid":"a",\#(statement)}]}"#, "Statement IDs (SID) in a single policy must be unique"),
        Malformed("an unknown statement field", #"{"Statement":[{\#(statement),"Extra":"x"}]}"#, "Unknown field Extra"),
        Malformed("a number where a string belongs", #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":7,"Resource":"*"}]}"#, "Invalid policy syntax."),
    ]

    @Test("malformed policies are refused with AWS's message", arguments: malformed)
    func refuses(_ test: Malformed) {
        #expect(throws: MalformedPolicy(test.message)) { try Self.parse(test.json, test.kind) }
    }
}
