import ObjectStore
import S3Auth
import S3Wire
import Testing

@testable import S3API

@Suite("ACL headers and documents")
struct AccessControlXMLTests {
    static func headers(_ pairs: [String: String]) -> (String) -> String? { { pairs[$0] } }

    @Test("no ACL headers ask for nothing")
    func none() throws {
        #expect(try AccessControlXML.fromHeaders(Self.headers([:])) == nil)
    }

    @Test("a canned ACL by name", arguments: AccessControlXML.CannedACL.allCases)
    func canned(_ canned: AccessControlXML.CannedACL) throws {
        #expect(try AccessControlXML.fromHeaders(Self.headers(["x-amz-acl": canned.rawValue])) == .canned(canned))
    }

    @Test("grant headers name ids, group URIs and e-mail addresses, quoted or not")
    func grants() throws {
        let parsed = try AccessControlXML.fromHeaders(Self.headers([
            "x-amz-grant-read": #"id="abc", uri="http://acs.amazonaws.com/groups/global/AllUsers""#,
            "x-amz-grant-full-control": "emailAddress=a@example.test",
        ]))
        #expect(parsed == .grants([
            RequestedGrant(.canonicalUser("abc"), .read), RequestedGrant(.group(ACLGrantee.allUsers), .read),
            RequestedGrant(.email("a@example.test"), .fullControl),
        ]))
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        let name: String
        let headers: [String: String]
        let code: S3ErrorCode
        var testDescription: String { name }
    }

    @Test(arguments: [
        Refusal(name: "an unknown canned ACL", headers: ["x-amz-acl": "world-writable"], code: .invalidArgument),
        Refusal(name: "canned and grants together", headers: ["x-amz-acl": "private", "x-amz-grant-read": #"id="a""#], code: .invalidRequest),
        Refusal(name: "a grantee of no known kind", headers: ["x-amz-grant-read": #"user="a""#], code: .invalidArgument),
        Refusal(name: "a grantee without a value", headers: ["x-amz-grant-read": "id"], code: .invalidArgument),
    ])
    func refuses(_ refusal: Refusal) {
        do throws(S3Error) {
            _ = try AccessControlXML.fromHeaders(Self.headers(refusal.headers))
            Issue.record("accepted \(refusal.headers)")
        } catch {
            #expect(error.code == refusal.code)
        }
    }

    @Test("an AccessControlPolicy document reads back what writing it gave, group grants listed first")
    func documentRoundTrip() throws {
        let grants = [ACLGrant(.canonicalUser("owner-id"), .fullControl), ACLGrant(.group(ACLGrantee.allUsers), .read)]
        let xml = AccessControlXML.write(owner: ("owner-id", "Owner"), grants: grants) { $0 == "owner-id" ? "Owner" : nil }
        #expect(xml.text.contains(#"xsi:type="CanonicalUser""#) && xml.text.contains("<DisplayName>Owner</DisplayName>"))
        let parsed = try AccessControlXML.parse(Array(xml.text.utf8))
        #expect(parsed.owner == "owner-id")
        #expect(parsed.grants == [RequestedGrant(.group(ACLGrantee.allUsers), .read), RequestedGrant(.canonicalUser("owner-id"), .fullControl)])
    }

    @Test("documents without a list, a grantee or a known permission are MalformedACLError", arguments: [
        "<AccessControlPolicy/>",
        "<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
        "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>a</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>",
        "<Other/>",
    ])
    func malformed(_ document: String) {
        do throws(S3Error) {
            _ = try AccessControlXML.parse(Array(document.utf8))
            Issue.record("parsed \(document)")
        } catch {
            #expect(error.code == .malformedACLError)
        }
    }
}

@Suite("What an ACL grants a caller")
struct ACLEvaluationTests {
    static let owner = AccountIdentity(id: "111111111111", canonicalID: "owner")
    static let other = AccountIdentity(id: "222222222222", canonicalID: "other")

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let grants: [ACLGrant]
        let permission: ACLPermission
        let caller: Caller
        let ignorePublic: Bool
        let expected: GrantMatch
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a grant to the caller's account names its root", grants: [ACLGrant(.canonicalUser("other"), .read)],
             permission: .read, caller: .root(other), ignorePublic: false, expected: .caller),
        Case(name: "a grant to the account names its users only through the account",
             grants: [ACLGrant(.canonicalUser("other"), .read)], permission: .read,
             caller: .user(other, name: "u", userID: "AIDA1"), ignorePublic: false, expected: .account),
        Case(name: "FULL_CONTROL covers every permission", grants: [ACLGrant(.canonicalUser("other"), .fullControl)],
             permission: .writeACP, caller: .root(other), ignorePublic: false, expected: .caller),
        Case(name: "READ does not cover WRITE", grants: [ACLGrant(.canonicalUser("other"), .read)],
             permission: .write, caller: .root(other), ignorePublic: false, expected: .none),
        Case(name: "AllUsers includes anonymous callers", grants: [ACLGrant(.group(ACLGrantee.allUsers), .read)],
             permission: .read, caller: .anonymous, ignorePublic: false, expected: .caller),
        Case(name: "AuthenticatedUsers excludes anonymous callers", grants: [ACLGrant(.group(ACLGrantee.authenticatedUsers), .read)],
             permission: .read, caller: .anonymous, ignorePublic: false, expected: .none),
        Case(name: "AuthenticatedUsers includes any signed caller", grants: [ACLGrant(.group(ACLGrantee.authenticatedUsers), .read)],
             permission: .read, caller: .user(other, name: "u", userID: "AIDA1"), ignorePublic: false, expected: .caller),
        Case(name: "IgnorePublicAcls voids public grants", grants: [ACLGrant(.group(ACLGrantee.allUsers), .read)],
             permission: .read, caller: .anonymous, ignorePublic: true, expected: .none),
        Case(name: "LogDelivery grants no caller", grants: [ACLGrant(.group(ACLGrantee.logDelivery), .write)],
             permission: .write, caller: .root(other), ignorePublic: false, expected: .none),
        Case(name: "another account's grant names nobody else", grants: [ACLGrant(.canonicalUser("owner"), .read)],
             permission: .read, caller: .root(other), ignorePublic: false, expected: .none),
    ]

    @Test(arguments: cases)
    func match(_ test: Case) {
        let acl = AccessControlList(owner: Self.owner.id, grants: test.grants)
        #expect(ACLEvaluation.match(acl, permission: test.permission, caller: test.caller, ignorePublic: test.ignorePublic) == test.expected)
    }

    @Test("actions map to the ACL permission AWS documents")
    func permissions() {
        #expect(ACLEvaluation.bucketPermission(for: "s3:ListBucket") == .read)
        #expect(ACLEvaluation.bucketPermission(for: "s3:PutObject") == .write)
        #expect(ACLEvaluation.bucketPermission(for: "s3:PutBucketAcl") == .writeACP)
        #expect(ACLEvaluation.bucketPermission(for: "s3:PutBucketPolicy") == nil)
        #expect(ACLEvaluation.objectPermission(for: "s3:GetObjectVersion") == .read)
        #expect(ACLEvaluation.objectPermission(for: "s3:GetObjectAcl") == .readACP)
        #expect(ACLEvaluation.objectPermission(for: "s3:PutObjectTagging") == nil)
    }
}
