import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LocalStore
import ObjectStore
import S3API
import S3Auth

/// The admin HTTP API of a running server.
struct RemoteAdminClient: AdminClient {
    let endpoint: URL
    let signer: SigV4Signer

    func add(_ request: AdminAccountRequest) async throws -> AdminAccount {
        try decode(try await call("POST", "", body: Array(try JSONEncoder().encode(request))))
    }

    func list() async throws -> [AdminAccount] { try decode(try await call("GET", "")) }

    func info(_ name: String) async throws -> AdminAccount { try decode(try await call("GET", "/" + name)) }

    func setDisabled(_ disabled: Bool, name: String) async throws -> AdminAccount {
        try decode(try await call("POST", "/" + name, query: disabled ? "disable=" : "enable="))
    }

    func remove(_ name: String) async throws {
        _ = try await call("DELETE", "/" + name)
    }

    private func decode<T: Decodable>(_ data: Data) throws -> T {
        try JSONDecoder().decode(T.self, from: data)
    }

    private func call(_ method: String, _ suffix: String, query: String = "", body: [UInt8] = []) async throws -> Data {
        let encodedName = suffix.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? suffix
        let path = "/_martlet/admin/v1/accounts" + encodedName
        var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)!
        components.percentEncodedPath = path
        components.percentEncodedQuery = query.isEmpty ? nil : query
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        let host = endpoint.port.map { "\(endpoint.host ?? ""):\($0)" } ?? (endpoint.host ?? "")
        for (name, value) in signer.sign(method: method, rawPath: path, rawQuery: query, host: host, body: body, at: Date()) {
            request.setValue(value, forHTTPHeaderField: name)
        }
        if !body.isEmpty {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw AdminFailure(description: "the server answered \(status): \(Self.errorText(data))")
        }
        return data
    }

    /// The code and message of an S3 error document.
    static func errorText(_ data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex) else {
                return nil
            }
            return String(text[start.upperBound..<end.lowerBound])
        }
        guard let code = element("Code") else { return text }
        return code + (element("Message").map { ": " + $0 } ?? "")
    }
}

/// An index changed directly (a stopped server's, or a cluster's while its nodes run) through the same directory
/// the server uses.
struct LocalAdminClient: AdminClient {
    let directory: IdentityDirectory

    init(index: any IdentityIndex, masterKey: MasterKey) {
        directory = IdentityDirectory(index: index, masterKey: masterKey)
    }

    func add(_ request: AdminAccountRequest) async throws -> AdminAccount {
        let (account, key) = try await mapped {
            try await directory.addAccount(
                name: request.name, displayName: request.displayName, email: request.email,
                accessKey: request.accessKey, secretKey: request.secretKey)
        }
        var described = try await describe(account)
        described.secretAccessKey = key.secretKey
        return described
    }

    func list() async throws -> [AdminAccount] {
        var result: [AdminAccount] = []
        for account in try await directory.accounts() { result.append(try await describe(account)) }
        return result
    }

    func info(_ name: String) async throws -> AdminAccount {
        guard let account = try await directory.account(named: name) else { throw AdminFailure(description: "no account named \(name)") }
        return try await describe(account)
    }

    func setDisabled(_ disabled: Bool, name: String) async throws -> AdminAccount {
        try await mapped { try await directory.setAccountDisabled(disabled, name: name) }
        return try await info(name)
    }

    func remove(_ name: String) async throws {
        try await mapped { try await directory.removeAccount(name: name) }
    }

    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as IdentityError {
            switch error {
            case .noSuchEntity(let m), .entityAlreadyExists(let m), .deleteConflict(let m), .limitExceeded(let m):
                throw AdminFailure(description: m)
            }
        }
    }

    private func describe(_ account: Account) async throws -> AdminAccount {
        AdminAccount(account, rootKeys: try await directory.rootKeys(accountID: account.id))
    }
}
