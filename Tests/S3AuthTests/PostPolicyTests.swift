import Foundation
import S3Auth
import Testing

@Suite("POST policies: parsing and checking a form against its conditions")
struct PostPolicyTests {
    static func encode(_ json: String) -> String { Data(json.utf8).base64EncodedString() }

    static let policy = """
        {"expiration": "2030-01-01T00:00:00.000Z", "conditions": [{"bUcKeT": "photos"}, ["StArTs-WiTh", "$Key", "user/"],
         {"acl": "private"}, ["eq", "$success_action_status", "201"], ["starts-with", "$Content-Type", "image/"],
         ["content-length-range", 10, 1000], ["content-length-range", 0, 500]]}
        """
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let goodFields = [
        "bucket": "photos", "key": "user/a.jpg", "acl": "private", "success_action_status": "201", "content-type": "image/jpeg",
        "policy": "p", "signature": "s", "awsaccesskeyid": "k", "x-ignore-me": "1", "x-amz-checksum-crc32": "AAAAAA==",
    ]

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let change: [String: String?]
        let message: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a form meeting every condition", change: [:], message: nil),
        Case(name: "a key outside the prefix", change: ["key": "admin/a.jpg"],
             message: "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"user/\"]"),
        Case(name: "another acl", change: ["acl": "public-read"],
             message: "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$acl\", \"private\"]"),
        Case(name: "a missing field checked as empty", change: ["success_action_status": nil],
             message: "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$success_action_status\", \"201\"]"),
        Case(name: "a field no condition names", change: ["x-amz-meta-extra": "1"],
             message: "Invalid according to Policy: Extra input fields: x-amz-meta-extra"),
        Case(name: "every one of several content types must match", change: ["content-type": "image/png, text/html"],
             message: "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$content-type\", \"image/\"]"),
    ]

    @Test(arguments: cases)
    func check(_ test: Case) throws {
        let parsed = try PostPolicy.parse(base64: Self.encode(Self.policy))
        var fields = Self.goodFields
        for (name, value) in test.change { fields[name] = value }
        do {
            try parsed.check(fields: fields, now: Self.now)
            #expect(test.message == nil)
        } catch {
            #expect(error.code == .accessDenied)
            #expect(error.message == test.message)
        }
    }

    @Test("several content-length-ranges all apply")
    func lengthRanges() throws {
        #expect(try PostPolicy.parse(base64: Self.encode(Self.policy)).lengthLimits == .init(minimum: 10, maximum: 500))
    }

    @Test("content-length-ranges that do not overlap admit no size")
    func disjointLengthRanges() throws {
        let json = """
            {"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 10, 20],
             ["content-length-range", 30, 40]]}
            """
        let limits = try #require(try PostPolicy.parse(base64: Self.encode(json)).lengthLimits)
        #expect(limits.minimum > limits.maximum)
    }

    @Test("an expired policy is refused")
    func expired() throws {
        let parsed = try PostPolicy.parse(base64: Self.encode(Self.policy))
        #expect(throws: AuthFailure(code: .accessDenied, message: "Invalid according to Policy: Policy expired.")) {
            try parsed.check(fields: Self.goodFields, now: Date(timeIntervalSince1970: 1_900_000_000))
        }
    }

    struct Invalid: CustomTestStringConvertible, Sendable {
        let name: String
        let json: String
        var testDescription: String { name }
    }

    static let invalid: [Invalid] = [
        Invalid(name: "not JSON", json: "{"),
        Invalid(name: "no expiration (the key is case-sensitive)", json: #"{"EXPIRATION": "2030-01-01T00:00:00Z", "conditions": []}"#),
        Invalid(name: "no conditions (the key is case-sensitive)", json: #"{"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": []}"#),
        Invalid(name: "an expiration not in ISO 8601", json: #"{"expiration": "2030-01-01 00:00:00+00:00", "conditions": []}"#),
        Invalid(name: "an empty simple condition", json: #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]}"#),
        Invalid(name: "a range with one bound", json: #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]}"#),
        Invalid(name: "a negative range", json: #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 0]]}"#),
        Invalid(name: "an unknown operation", json: #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["ends-with", "$key", "x"]]}"#),
        Invalid(name: "a field not named with $", json: #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "x"]]}"#),
    ]

    @Test(arguments: invalid)
    func invalidDocuments(_ test: Invalid) {
        do {
            _ = try PostPolicy.parse(base64: Self.encode(test.json))
            Issue.record("parsed")
        } catch {
            #expect(error.code == .invalidPolicyDocument)
        }
    }
}
