import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Auth
import S3Wire

/// Martlet's account administration over HTTP, for `martlet admin --endpoint`: JSON in and out under
/// `/_martlet/admin/v1/accounts`, signed like any request, and only for the operator (checked by the authorizer).
extension S3Handlers {
    func admin(_ path: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        // `/_martlet/metrics` signed by the operator (a scraper with the bearer token is answered earlier).
        if path == "metrics", context.method == .get { return await metricsExposition() }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] == "admin", parts[1] == "v1", parts[2] == "accounts", parts.count <= 4 else {
            throw S3Error(.invalidRequest, "Unknown admin resource: \(path)")
        }
        let directory = authorizer.directory
        let name = parts.count == 4 ? parts[3] : nil
        do {
            switch (context.method, name) {
            case (.get, nil):
                var listed: [AdminAccount] = []
                for account in try await directory.accounts() { listed.append(try await describe(account)) }
                return try json(listed)
            case (.post, nil):
                let document = try await body.collectVerifiedDocument(context, limit: 64 << 10)
                guard let request = try? JSONDecoder().decode(AdminAccountRequest.self, from: Data(document)) else {
                    throw S3Error(.malformedXML, "The request body must be a JSON account description.")
                }
                try AccountName.validate(request.name)
                if (request.accessKey == nil) != (request.secretKey == nil) {
                    throw S3Error(.invalidArgument, "accessKey and secretKey go together.")
                }
                let (account, key) = try await directory.addAccount(
                    name: request.name, displayName: request.displayName, email: request.email,
                    accessKey: request.accessKey, secretKey: request.secretKey)
                var described = try await describe(account)
                described.secretAccessKey = key.secretKey
                return try json(described)
            case (.get, let name?):
                return try json(try await describe(try await requireAccount(name)))
            case (.post, let name?):
                let disable: Bool
                if context.query["disable"] != nil { disable = true } else if context.query["enable"] != nil { disable = false } else {
                    throw S3Error(.invalidRequest, "Say ?disable or ?enable.")
                }
                try await directory.setAccountDisabled(disable, name: name)
                return try json(try await describe(try await requireAccount(name)))
            case (.delete, let name?):
                try await directory.removeAccount(name: name)
                return .empty(.noContent)
            default:
                throw S3Error(.methodNotAllowed)
            }
        } catch let error as IdentityError {
            throw S3Error.from(error)
        }
    }

    private func requireAccount(_ name: String) async throws -> Account {
        guard let account = try await authorizer.directory.account(named: name) else {
            throw S3Error(.noSuchEntity, "The account \(name) cannot be found.")
        }
        return account
    }

    private func describe(_ account: Account) async throws -> AdminAccount {
        AdminAccount(account, rootKeys: try await authorizer.directory.rootKeys(accountID: account.id))
    }

    private func json(_ value: some Encodable) throws -> S3Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return .bytes(Array(try encoder.encode(value)) + [10], headers: headers)
    }
}

/// An account as the admin API describes it. The secret appears only in the answer to the request that made it.
public struct AdminAccount: Codable, Sendable {
    public struct Key: Codable, Sendable {
        public var accessKeyId: String
        public var status: String
    }

    public var name: String
    public var accountId: String
    public var canonicalId: String
    public var displayName: String
    public var email: String?
    public var arn: String
    public var createdAt: String
    public var disabled: Bool
    public var `operator`: Bool
    public var accessKeys: [Key]
    public var secretAccessKey: String?

    public init(_ account: Account, rootKeys: [AccessKey]) {
        name = account.name
        accountId = account.id
        canonicalId = account.canonicalID
        displayName = account.displayName
        email = account.email
        arn = "arn:aws:iam::\(account.id):root"
        createdAt = HTTPDate.iso8601(account.createdAt)
        disabled = account.isDisabled
        self.operator = account.isOperator
        accessKeys = rootKeys.map { Key(accessKeyId: $0.id, status: $0.isActive ? "Active" : "Inactive") }
    }
}

/// The body of `POST /_martlet/admin/v1/accounts`.
public struct AdminAccountRequest: Codable, Sendable {
    public var name: String
    public var displayName: String?
    public var email: String?
    public var accessKey: String?
    public var secretKey: String?

    public init(name: String, displayName: String?, email: String?, accessKey: String?, secretKey: String?) {
        self.name = name
        self.displayName = displayName
        self.email = email
        self.accessKey = accessKey
        self.secretKey = secretKey
    }
}

/// Account names: what an operator types, kept to characters safe in a URL path.
enum AccountName {
    static func validate(_ name: String) throws(S3Error) {
        let allowed = name.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 45 || c == 95 || c == 46
        }
        guard (1...64).contains(name.utf8.count), allowed else {
            throw S3Error(.invalidArgument, "An account name is 1 to 64 letters, digits, '.', '-' or '_'.")
        }
    }
}

extension S3Error {
    static func from(_ error: IdentityError) -> S3Error {
        switch error {
        case .noSuchEntity(let message): S3Error(.noSuchEntity, message)
        case .entityAlreadyExists(let message): S3Error(.entityAlreadyExists, message)
        case .deleteConflict(let message): S3Error(.deleteConflict, message)
        case .limitExceeded(let message): S3Error(.limitExceeded, message)
        }
    }
}
