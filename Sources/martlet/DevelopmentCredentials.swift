import Foundation

/// The credential pair the server accepts: given explicitly, or a development pair generated once per data folder.
struct DevelopmentCredentials: Codable {
    var accessKey: String
    var secretKey: String

    static func resolve(accessKey: String?, secretKey: String?, dataDirectory: String) throws -> DevelopmentCredentials {
        if let accessKey, let secretKey {
            return DevelopmentCredentials(accessKey: accessKey, secretKey: secretKey)
        }
        let file = URL(fileURLWithPath: dataDirectory).appendingPathComponent("credentials.json")
        if let data = try? Data(contentsOf: file) {
            return try JSONDecoder().decode(DevelopmentCredentials.self, from: data)
        }
        let generated = DevelopmentCredentials(accessKey: "MARTLET" + randomString(13, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                                               secretKey: randomString(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
        let encoded = try JSONEncoder().encode(generated)
        // The secret must not be world-readable.
        guard FileManager.default.createFile(atPath: file.path, contents: encoded, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        return generated
    }

    private static func randomString(_ length: Int, alphabet: String) -> String {
        let characters = Array(alphabet)
        return String((0..<length).map { _ in characters.randomElement()! })
    }
}
