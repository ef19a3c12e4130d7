import Foundation
import ObjectStore
import S3Auth
import S3Wire

/// The IAM actions Martlet serves, for one request: users, their access keys and inline policies, within the
/// caller's account. https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html
struct IAMActions {
    let directory: IdentityDirectory
    let caller: Caller
    let form: [String: String]
    let requestID: String

    func run(_ action: String) async throws -> S3Response {
        guard let account = caller.account else { throw QueryError.accessDenied }
        do {
            switch action {
            case "CreateUser": return try await createUser(account)
            case "GetUser": return try await getUser(account)
            case "ListUsers": return try await listUsers(account)
            case "DeleteUser": return try await deleteUser(account)
            case "CreateAccessKey": return try await createAccessKey(account)
            case "ListAccessKeys": return try await listAccessKeys(account)
            case "UpdateAccessKey": return try await updateAccessKey(account)
            case "DeleteAccessKey": return try await deleteAccessKey(account)
            case "PutUserPolicy": return try await putUserPolicy(account)
            case "GetUserPolicy": return try await getUserPolicy(account)
            case "ListUserPolicies": return try await listUserPolicies(account)
            case "DeleteUserPolicy": return try await deleteUserPolicy(account)
            default:
                throw QueryError(.sender, "InvalidAction", "Could not find operation \(action) for version 2010-05-08", status: .badRequest)
            }
        } catch let error as IdentityError {
            throw QueryError.from(error)
        }
    }

    // MARK: Users

    private func createUser(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: true)!
        let path = form["Path"] ?? "/"
        guard path.hasPrefix("/"), path.hasSuffix("/"), path.utf8.count <= 512 else {
            throw validation("Path", path)
        }
        try authorize("iam:CreateUser", user: name, account)
        let user = try await directory.createUser(accountID: account.id, name: name, path: path)
        return respond("CreateUser") { x in x.element("User") { writeUser(user, into: &$0) } }
    }

    private func getUser(_ account: AccountIdentity) async throws -> S3Response {
        guard let name = try userName(required: false) ?? callerUserName else {
            // The root asking about itself.
            try authorize("iam:GetUser", user: nil, account)
            let created = directory.account(id: account.id)?.createdAt ?? Date()
            return respond("GetUser") { x in
                x.element("User") { u in
                    u.element("UserId", account.id)
                    u.element("Arn", account.rootARN)
                    u.element("CreateDate", HTTPDate.iso8601(created))
                }
            }
        }
        try authorize("iam:GetUser", user: name, account)
        let user = try await requireUser(name, account)
        return respond("GetUser") { x in x.element("User") { writeUser(user, into: &$0) } }
    }

    private func listUsers(_ account: AccountIdentity) async throws -> S3Response {
        try authorize("iam:ListUsers", user: nil, account)
        let prefix = form["PathPrefix"] ?? "/"
        let users = try await directory.index.users(accountID: account.id).filter { $0.path.hasPrefix(prefix) }
        let (page, marker) = try paginate(users.map { (key: $0.name, value: $0) })
        return respond("ListUsers") { x in
            x.element("Users") { list in
                for user in page { list.element("member") { writeUser(user, into: &$0) } }
            }
            writePaging(marker, into: &x)
        }
    }

    private func deleteUser(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: true)!
        try authorize("iam:DeleteUser", user: name, account)
        try await directory.deleteUser(accountID: account.id, name: name)
        return respond("DeleteUser", result: nil)
    }

    // MARK: Access keys

    private func createAccessKey(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: false) ?? callerUserName
        try authorize("iam:CreateAccessKey", user: name, account)
        let user = try await optionalUser(name, account)
        let key = try await directory.createAccessKey(accountID: account.id, userName: user?.name)
        return respond("CreateAccessKey") { x in
            x.element("AccessKey") { k in
                if let user { k.element("UserName", user.name) }
                k.element("AccessKeyId", key.accessKeyID)
                k.element("Status", "Active")
                k.element("SecretAccessKey", key.secretKey)
                k.element("CreateDate", HTTPDate.iso8601(key.createdAt))
            }
        }
    }

    private func listAccessKeys(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: false) ?? callerUserName
        try authorize("iam:ListAccessKeys", user: name, account)
        let user = try await optionalUser(name, account)
        let keys = try await directory.index.accessKeys(accountID: account.id, userName: user?.name)
        let (page, marker) = try paginate(keys.map { (key: $0.id, value: $0) })
        return respond("ListAccessKeys") { x in
            if let user { x.element("UserName", user.name) }
            x.element("AccessKeyMetadata") { list in
                for key in page {
                    list.element("member") { m in
                        if let user { m.element("UserName", user.name) }
                        m.element("AccessKeyId", key.id)
                        m.element("Status", key.isActive ? "Active" : "Inactive")
                        m.element("CreateDate", HTTPDate.iso8601(key.createdAt))
                    }
                }
            }
            writePaging(marker, into: &x)
        }
    }

    private func updateAccessKey(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: false) ?? callerUserName
        guard let keyID = form["AccessKeyId"] else { throw missing("AccessKeyId") }
        guard let status = form["Status"], status == "Active" || status == "Inactive" else {
            throw validation("Status", form["Status"] ?? "")
        }
        try authorize("iam:UpdateAccessKey", user: name, account)
        let user = try await optionalUser(name, account)
        try await directory.setAccessKeyActive(status == "Active", id: keyID, accountID: account.id, userName: user?.name)
        return respond("UpdateAccessKey", result: nil)
    }

    private func deleteAccessKey(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: false) ?? callerUserName
        guard let keyID = form["AccessKeyId"] else { throw missing("AccessKeyId") }
        try authorize("iam:DeleteAccessKey", user: name, account)
        let user = try await optionalUser(name, account)
        try await directory.deleteAccessKey(id: keyID, accountID: account.id, userName: user?.name)
        return respond("DeleteAccessKey", result: nil)
    }

    // MARK: Inline policies

    private func putUserPolicy(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: true)!
        let policyName = try self.policyName()
        guard let document = form["PolicyDocument"] else { throw missing("PolicyDocument") }
        try authorize("iam:PutUserPolicy", user: name, account)
        let user = try await requireUser(name, account)
        do throws(MalformedPolicy) {
            let parsed = try PolicyDocument.parse(Array(document.utf8), kind: .identity)
            if let address = parsed.invalidAddress {
                throw MalformedPolicy("Invalid IP address or CIDR block in condition: \(address)")
            }
        } catch {
            throw QueryError(.sender, "MalformedPolicyDocument", error.message, status: .badRequest)
        }
        // The user's policies together are held to the quota (2,048 characters, whitespace aside, as on AWS): 409
        // LimitExceeded. The directory checks it with the write, so two policies put at once cannot both fit.
        try await directory.putUserPolicy(
            accountID: account.id, userName: user.name, policyName: policyName, document: document,
            sizeLimit: directory.quotas.userPolicyCharacters)
        return respond("PutUserPolicy", result: nil)
    }

    private func getUserPolicy(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: true)!
        let policyName = try self.policyName()
        try authorize("iam:GetUserPolicy", user: name, account)
        let user = try await requireUser(name, account)
        guard let policy = try await directory.index.userPolicies(accountID: account.id, userName: user.name)
            .first(where: { $0.name == policyName })
        else {
            throw QueryError(.sender, "NoSuchEntity", "The user policy with name \(policyName) cannot be found.", status: .notFound)
        }
        return respond("GetUserPolicy") { x in
            x.element("UserName", user.name)
            x.element("PolicyName", policy.name)
            // IAM returns policy documents URL-encoded (RFC 3986); SDKs decode them.
            x.element("PolicyDocument", Percent.encode(policy.document))
        }
    }

    private func listUserPolicies(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: true)!
        try authorize("iam:ListUserPolicies", user: name, account)
        let user = try await requireUser(name, account)
        let names = try await directory.index.userPolicies(accountID: account.id, userName: user.name).map(\.name)
        let (page, marker) = try paginate(names.map { (key: $0, value: $0) })
        return respond("ListUserPolicies") { x in
            x.element("PolicyNames") { list in for name in page { list.element("member", name) } }
            writePaging(marker, into: &x)
        }
    }

    private func deleteUserPolicy(_ account: AccountIdentity) async throws -> S3Response {
        let name = try userName(required: true)!
        let policyName = try self.policyName()
        try authorize("iam:DeleteUserPolicy", user: name, account)
        let user = try await requireUser(name, account)
        try await directory.deleteUserPolicy(accountID: account.id, userName: user.name, policyName: policyName)
        return respond("DeleteUserPolicy", result: nil)
    }

    // MARK: Helpers

    /// An IAM user acting on "itself" when no UserName is given; nil for an account root.
    private var callerUserName: String? {
        if case .user(_, let name, _) = caller { return name }
        return nil
    }

    /// A root may do anything in its account; a user needs its identity policies to allow the action on the user.
    private func authorize(_ action: String, user: String?, _ account: AccountIdentity) throws {
        if case .root = caller { return }
        let resource = user.map { "arn:aws:iam::\(account.id):user/\($0)" } ?? "arn:aws:iam::\(account.id):root"
        let request = AuthorizationRequest(caller: caller, action: action, resource: resource, resourceOwner: account)
        guard PolicyEvaluator.decide(request, identityPolicies: directory.identityPolicies(caller), bucketPolicy: nil, acl: .none) == .allow
        else {
            throw QueryError(
                .sender, "AccessDenied",
                "User: \(caller.arn ?? "anonymous") is not authorized to perform: \(action) on resource: \(resource)",
                status: .forbidden)
        }
    }

    private func optionalUser(_ name: String?, _ account: AccountIdentity) async throws -> IAMUser? {
        guard let name else { return nil }
        return try await requireUser(name, account)
    }

    private func requireUser(_ name: String, _ account: AccountIdentity) async throws -> IAMUser {
        guard let user = try await directory.index.user(accountID: account.id, name: name) else {
            throw QueryError(.sender, "NoSuchEntity", "The user with name \(name) cannot be found.", status: .notFound)
        }
        return user
    }

    private func userName(required: Bool) throws -> String? {
        guard let name = form["UserName"] else {
            if required { throw missing("UserName") }
            return nil
        }
        guard Self.isIAMName(name, maxLength: 64) else { throw validation("userName", name) }
        return name
    }

    private func policyName() throws -> String {
        guard let name = form["PolicyName"] else { throw missing("PolicyName") }
        guard Self.isIAMName(name, maxLength: 128) else { throw validation("policyName", name) }
        return name
    }

    /// IAM's name pattern `[\w+=,.@-]+`.
    static func isIAMName(_ name: String, maxLength: Int) -> Bool {
        (1...maxLength).contains(name.utf8.count) && name.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || Array("_+=,.@-".utf8).contains(c)
        }
    }

    private func missing(_ name: String) -> QueryError {
        QueryError(.sender, "ValidationError", "1 validation error detected: Value null at '\(name)' failed to satisfy constraint: Member must not be null", status: .badRequest)
    }

    private func validation(_ name: String, _ value: String) -> QueryError {
        QueryError(.sender, "ValidationError", "1 validation error detected: Value '\(value)' at '\(name)' failed to satisfy constraint", status: .badRequest)
    }

    /// A page after `Marker`, at most `MaxItems` (100 by default, as on AWS); the marker of the next page.
    private func paginate<T>(_ items: [(key: String, value: T)]) throws -> ([T], String?) {
        var maxItems = 100
        if let text = form["MaxItems"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw validation("maxItems", text) }
            maxItems = value
        }
        let rest = form["Marker"].map { marker in items.filter { $0.key > marker } } ?? items
        let page = Array(rest.prefix(maxItems))
        return (page.map(\.value), rest.count > page.count ? page.last?.key : nil)
    }

    private func writePaging(_ marker: String?, into x: inout XMLWriter) {
        x.element("IsTruncated", marker != nil)
        if let marker { x.element("Marker", marker) }
    }

    private func writeUser(_ user: IAMUser, into u: inout XMLWriter) {
        u.element("Path", user.path)
        u.element("UserName", user.name)
        u.element("UserId", user.userID)
        u.element("Arn", user.arn)
        u.element("CreateDate", HTTPDate.iso8601(user.createdAt))
    }

    private func respond(_ action: String, result: ((inout XMLWriter) -> Void)?) -> S3Response {
        QueryXML.response(action, requestID: requestID, result: result)
    }

    private func respond(_ action: String, _ result: @escaping (inout XMLWriter) -> Void) -> S3Response {
        QueryXML.response(action, requestID: requestID, result: result)
    }
}
