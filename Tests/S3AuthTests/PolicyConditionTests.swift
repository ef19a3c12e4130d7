import Testing

@testable import S3Auth

@Suite("Policy conditions, wildcards and address ranges")
struct PolicyConditionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let testDescription: String
        let operatorName: String
        let policy: [String]
        let request: [String]?
        let holds: Bool
        init(_ name: String, _ op: String, _ policy: [String], _ request: [String]?, _ holds: Bool) {
            (testDescription, operatorName, self.policy, self.request, self.holds) = (name, op, policy, request, holds)
        }
    }

    static let cases: [Case] = [
        Case("StringEquals matches one of the values", "StringEquals", ["a", "b"], ["b"], true),
        Case("StringEquals is case-sensitive", "StringEquals", ["a"], ["A"], false),
        Case("StringEquals on an absent key fails", "StringEquals", ["a"], nil, false),
        Case("StringNotEquals holds for another value", "StringNotEquals", ["a"], ["b"], true),
        Case("StringNotEquals fails for a listed value", "StringNotEquals", ["a", "b"], ["b"], false),
        Case("StringNotEquals holds on an absent key", "StringNotEquals", ["a"], nil, true),
        Case("StringEqualsIgnoreCase", "StringEqualsIgnoreCase", ["Hello"], ["hELLO"], true),
        Case("StringLike with * and ?", "StringLike", ["home/?nn/*"], ["home/ann/x/y"], true),
        Case("StringLike misses", "StringLike", ["home/*"], ["work/x"], false),
        Case("StringNotLike", "StringNotLike", ["*.exe"], ["a.jpg"], true),
        Case("StringEqualsIfExists holds on an absent key", "StringEqualsIfExists", ["a"], nil, true),
        Case("StringEqualsIfExists still checks a present key", "StringEqualsIfExists", ["a"], ["b"], false),
        Case("NumericLessThan", "NumericLessThan", ["10"], ["9"], true),
        Case("NumericLessThan at the bound", "NumericLessThan", ["10"], ["10"], false),
        Case("NumericLessThanEquals at the bound", "NumericLessThanEquals", ["10"], ["10"], true),
        Case("NumericGreaterThan", "NumericGreaterThan", ["10"], ["11"], true),
        Case("NumericEquals with a non-number fails", "NumericEquals", ["10"], ["ten"], false),
        Case("DateLessThan in ISO 8601", "DateLessThan", ["2027-01-01T00:00:00Z"], ["2026-12-04T08:00:00Z"], true),
        Case("DateGreaterThan against epoch seconds", "DateGreaterThan", ["1700000000"], ["2026-12-04T08:00:00Z"], true),
        Case("Bool compares without case", "Bool", ["true"], ["TRUE"], true),
        Case("IpAddress in an IPv4 block", "IpAddress", ["203.0.113.0/24"], ["203.0.113.77"], true),
        Case("IpAddress outside the block", "IpAddress", ["203.0.113.0/24"], ["203.0.114.1"], false),
        Case("IpAddress in an IPv6 block", "IpAddress", ["2001:db8::/32"], ["2001:db8:1::5"], true),
        Case("IpAddress for an IPv4-mapped address", "IpAddress", ["127.0.0.0/8"], ["::ffff:127.0.0.1"], true),
        Case("NotIpAddress", "NotIpAddress", ["10.0.0.0/8"], ["192.168.1.1"], true),
        Case("Null true holds when the key is absent", "Null", ["true"], nil, true),
        Case("Null true fails when it is present", "Null", ["true"], ["x"], false),
        Case("Null false holds when it is present", "Null", ["false"], ["x"], true),
        Case("ArnLike compares each part with wildcards", "ArnLike", ["arn:aws:iam::*:user/a*"], ["arn:aws:iam::111111111111:user/ann"], true),
        Case("ArnLike does not let * cross parts", "ArnLike", ["arn:aws:iam::*"], ["arn:aws:iam::111111111111:user/ann"], false),
        Case("ForAnyValue holds if one value matches", "ForAnyValue:StringEquals", ["a"], ["x", "a"], true),
        Case("ForAnyValue fails on an absent key", "ForAnyValue:StringEquals", ["a"], nil, false),
        Case("ForAllValues needs every value to match", "ForAllValues:StringEquals", ["a", "b"], ["a", "c"], false),
        Case("ForAllValues holds when every value matches", "ForAllValues:StringLike", ["a*"], ["ab", "ac"], true),
        Case("ForAllValues holds on an absent key", "ForAllValues:StringEquals", ["a"], nil, true),
    ]

    @Test("operators", arguments: cases)
    func holds(_ test: Case) throws {
        let condition = try #require(ConditionOperator(test.operatorName))
        #expect(condition.holds(policyValues: test.policy, requestValues: test.request) == test.holds)
    }

    @Test("unknown operator names", arguments: ["StringSorta", "ForSomeValues:StringEquals", "NullIfExists", ""])
    func unknown(_ name: String) {
        #expect(ConditionOperator(name) == nil)
    }

    @Test("wildcards", arguments: [
        ("*", "", true), ("*", "anything/at/all", true), ("a?c", "abc", true), ("a?c", "ac", false),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y.jpg", true), ("arn:aws:s3:::b/*", "arn:aws:s3:::bb/x", false),
        ("*.jpg", "a.jpg.png", false), ("a*b*c", "aXbYbZc", true), ("", "", true), ("", "x", false),
    ])
    func wildcard(_ pattern: String, _ text: String, _ matches: Bool) {
        #expect(Wildcard.matches(pattern, text) == matches)
    }

    @Test("address ranges refuse what is not an address", arguments: ["", "300.1.1.1", "1.2.3", "1.2.3.4/33", "::1::2", "2001:db8::/129", "x"])
    func badRanges(_ text: String) {
        #expect(IPAddressRange(text) == nil)
    }

    @Test("policy variables")
    func variables() {
        let context = ["aws:username": ["ann"]]
        #expect(PolicyVariables.substitute("home/${aws:username}/*", context) == "home/ann/*")
        #expect(PolicyVariables.substitute("home/${aws:UserName}/x", context) == "home/ann/x")
        #expect(PolicyVariables.substitute("a${*}b${?}c${$}", context) == "a*b?c$")
        #expect(PolicyVariables.substitute("home/${aws:userid}/*", context) == nil)
        #expect(PolicyVariables.substitute("no variables", context) == "no variables")
    }
}
