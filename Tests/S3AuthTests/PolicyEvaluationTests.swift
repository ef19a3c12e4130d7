import Testing

@testable import S3Auth

@Suite("Policy evaluation: who may do what")
struct PolicyEvaluationTests {
    static let owner = AccountIdentity(id: "111111111111", canonicalID: String(repeating: "a", count: 64))
    static let other = AccountIdentity(id: "222222222222", canonicalID: String(repeating: "b", count: 64))
    static let ann = Caller.user(owner, name: "ann", userID: "AIDAANN")
    static let bob = Caller.user(other, name: "bob", userID: "AIDABOB")

    static func policy(_ json: String, _ kind: PolicyDocument.Kind) -> PolicyDocument {
        try! PolicyDocument.parse(Array(json.utf8), kind: kind)
    }

    static let readMyappStaging = policy("""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::myapp-staging/*"},
          {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::myapp-staging"}]}
        """, .identity)
    static let ownFolder = policy("""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}
        """, .identity)
    static let publicPath = policy("""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/public/*"}]}
        """, .resource)
    static let denyDeletes = policy("""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::photos/*"}]}
        """, .resource)
    static let grantBobsAccount = policy("""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::photos/*"}]}
        """, .resource)
    static let grantAnn = policy("""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/ann"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}]}
        """, .resource)
    static let httpsOnly = policy("""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"],
           "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}
        """, .resource)
    static let allowAll = policy(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#, .identity)

    struct Case: CustomTestStringConvertible, Sendable {
        let testDescription: String
        let caller: Caller
        let action: String
        let resource: String
        var owner: AccountIdentity? = PolicyEvaluationTests.owner
        var identity: [PolicyDocument] = []
        var bucket: PolicyDocument? = nil
        var acl: GrantMatch = .none
        var context: [String: [String]] = [:]
        let decision: Decision
    }

    static let cases: [Case] = [
        Case(testDescription: "an account root may do anything with its own bucket", caller: .root(owner),
             action: "s3:DeleteBucket", resource: "arn:aws:s3:::photos", decision: .allow),
        Case(testDescription: "a new user with no policy may do nothing", caller: ann,
             action: "s3:GetObject", resource: "arn:aws:s3:::photos/a.jpg", decision: .deny(explicit: false)),
        Case(testDescription: "a least-privilege user works in its bucket", caller: ann, action: "s3:PutObject",
             resource: "arn:aws:s3:::myapp-staging/upload.csv", identity: [readMyappStaging], decision: .allow),
        Case(testDescription: "... and lists it", caller: ann, action: "s3:ListBucket",
             resource: "arn:aws:s3:::myapp-staging", identity: [readMyappStaging], decision: .allow),
        Case(testDescription: "... but not another bucket", caller: ann, action: "s3:GetObject",
             resource: "arn:aws:s3:::myapp-prod/upload.csv", identity: [readMyappStaging], decision: .deny(explicit: false)),
        Case(testDescription: "... nor list all buckets", caller: ann, action: "s3:ListAllMyBuckets", resource: "*",
             owner: nil, identity: [readMyappStaging], decision: .deny(explicit: false)),
        Case(testDescription: "... nor delete the bucket (s3:*Object does not match s3:DeleteBucket)", caller: ann,
             action: "s3:DeleteBucket", resource: "arn:aws:s3:::myapp-staging", identity: [readMyappStaging],
             decision: .deny(explicit: false)),
        Case(testDescription: "action names compare without case", caller: ann, action: "S3:PUTOBJECT",
             resource: "arn:aws:s3:::myapp-staging/x", identity: [readMyappStaging], decision: .allow),
        Case(testDescription: "a policy variable names the user's own folder", caller: ann, action: "s3:GetObject",
             resource: "arn:aws:s3:::home/ann/notes.txt", identity: [ownFolder], decision: .allow),
        Case(testDescription: "... and not another user's", caller: ann, action: "s3:GetObject",
             resource: "arn:aws:s3:::home/bob/notes.txt", identity: [ownFolder], decision: .deny(explicit: false)),
        Case(testDescription: "a root has no user name, so the variable matches nothing", caller: .root(other),
             action: "s3:GetObject", resource: "arn:aws:s3:::home/ann/notes.txt", identity: [ownFolder],
             decision: .deny(explicit: false)),
        Case(testDescription: "an anonymous GET of a public path is allowed", caller: .anonymous, action: "s3:GetObject",
             resource: "arn:aws:s3:::photos/public/cat.jpg", bucket: publicPath, decision: .allow),
        Case(testDescription: "an anonymous GET elsewhere in the bucket is not", caller: .anonymous, action: "s3:GetObject",
             resource: "arn:aws:s3:::photos/private/cat.jpg", bucket: publicPath, decision: .deny(explicit: false)),
        Case(testDescription: "an anonymous PUT to the public path is not", caller: .anonymous, action: "s3:PutObject",
             resource: "arn:aws:s3:::photos/public/cat.jpg", bucket: publicPath, decision: .deny(explicit: false)),
        Case(testDescription: "an AllUsers ACL grant lets anonymous callers in", caller: .anonymous, action: "s3:GetObject",
             resource: "arn:aws:s3:::photos/a.jpg", acl: .caller, decision: .allow),
        Case(testDescription: "an explicit Deny in the bucket policy beats the user's Allow", caller: ann,
             action: "s3:DeleteObject", resource: "arn:aws:s3:::photos/a.jpg", identity: [allowAll], bucket: denyDeletes,
             decision: .deny(explicit: true)),
        Case(testDescription: "... and binds the owning account's root too", caller: .root(owner),
             action: "s3:DeleteObject", resource: "arn:aws:s3:::photos/a.jpg", bucket: denyDeletes, decision: .deny(explicit: true)),
        Case(testDescription: "a bucket policy naming a same-account user suffices without an identity policy", caller: ann,
             action: "s3:GetObject", resource: "arn:aws:s3:::photos/a.jpg", bucket: grantAnn, decision: .allow),
        Case(testDescription: "another account's root granted by the bucket policy", caller: .root(other),
             action: "s3:PutObject", resource: "arn:aws:s3:::photos/a.jpg", bucket: grantBobsAccount, decision: .allow),
        Case(testDescription: "another account's user needs its own account's Allow as well", caller: bob,
             action: "s3:PutObject", resource: "arn:aws:s3:::photos/a.jpg", bucket: grantBobsAccount, decision: .deny(explicit: false)),
        Case(testDescription: "... and with it gets in", caller: bob, action: "s3:PutObject", resource: "arn:aws:s3:::photos/a.jpg",
             identity: [allowAll], bucket: grantBobsAccount, decision: .allow),
        Case(testDescription: "another account's root without a grant is denied", caller: .root(other),
             action: "s3:GetObject", resource: "arn:aws:s3:::photos/a.jpg", decision: .deny(explicit: false)),
        Case(testDescription: "an ACL grant to another account", caller: .root(other), action: "s3:GetObject",
             resource: "arn:aws:s3:::photos/a.jpg", acl: .account, decision: .allow),
        Case(testDescription: "an HTTPS-only bucket refuses plain HTTP even to its owner", caller: .root(owner),
             action: "s3:GetObject", resource: "arn:aws:s3:::photos/a.jpg", bucket: httpsOnly,
             context: ["aws:SecureTransport": ["false"]], decision: .deny(explicit: true)),
        Case(testDescription: "... and lets HTTPS through", caller: .root(owner), action: "s3:GetObject",
             resource: "arn:aws:s3:::photos/a.jpg", bucket: httpsOnly, context: ["aws:SecureTransport": ["true"]],
             decision: .allow),
    ]

    @Test("decisions", arguments: cases)
    func decides(_ test: Case) {
        let request = AuthorizationRequest(
            caller: test.caller, action: test.action, resource: test.resource, resourceOwner: test.owner, context: test.context)
        #expect(PolicyEvaluator.decide(request, identityPolicies: test.identity, bucketPolicy: test.bucket, acl: test.acl) == test.decision)
    }
}
