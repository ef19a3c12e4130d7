import Foundation
import Notifications
import S3API
import Yams

/// The optional configuration file (`--config martlet.yaml`): any `martlet server` setting, spelled as its flag
/// without the dashes, plus notification targets and the accounts, IAM users and buckets to bring in line at
/// start-up. Read with Yams, whose nodes keep their line, so every complaint names the file and the line.
/// `martlet.example.yaml` in the repository shows every key.
struct ConfigFile {
    let path: String
    /// Top-level settings, as text, with the line of each.
    private(set) var settings: [String: (value: String, line: Int)] = [:]
    private(set) var targets: [TargetSpec] = []
    private(set) var declared = DeclaredState()

    /// The sections besides the flags' settings.
    static let sections: Set<String> = ["webhooks", "redis", "accounts", "users", "buckets"]

    init(path: String, allowedSettings: Set<String>) throws(ConfigError) {
        self.path = path
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError("\(path): cannot read it: \(error.localizedDescription)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigError("\(path): not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let top = root.mapping else { throw error(root, "the file must be a mapping of keys to values") }
        for (keyNode, value) in top {
            guard let key = keyNode.string else { throw error(keyNode, "keys are names") }
            if Self.sections.contains(key) {
                guard let items = value.sequence else { throw error(value, "\(key) is a list (each item starts with -)") }
                for item in items {
                    guard let fields = item.mapping else { throw error(item, "each of \(key) is a mapping of keys to values") }
                    try section(key, Fields(file: self, node: item, mapping: fields))
                }
            } else if allowedSettings.contains(key) {
                guard let scalar = value.scalar else { throw error(value, "\(key) takes a single value") }
                settings[key] = (scalar.string, line(value))
            } else {
                throw error(keyNode, "unknown setting \(key) (see `martlet server --help`)")
            }
        }
    }

    private mutating func section(_ name: String, _ fields: Fields) throws(ConfigError) {
        switch name {
        case "webhooks", "redis":
            let kind: TargetSpec.Kind = name == "webhooks" ? .webhook : .redis
            try fields.only(kind == .webhook ? ["id", "url", "authorization", "timeout", "ca-file"] : ["id", "url", "timeout"])
            let spec = TargetSpec(
                id: try fields.required("id"), kind: kind, url: try fields.required("url"),
                authorization: fields.string("authorization"), timeout: try fields.double("timeout") ?? 10, caFile: fields.string("ca-file"))
            do { try spec.validate() } catch { throw self.error(fields.node, error.description) }
            targets.append(spec)
        case "accounts":
            try fields.only(["name", "email", "access-key", "secret-key"])
            declared.accounts.append(DeclaredState.Account(
                name: try fields.required("name"), email: fields.string("email"), accessKey: fields.string("access-key"),
                secretKey: fields.string("secret-key"), source: source(fields.node)))
        case "users":
            try fields.only(["account", "name", "access-key", "secret-key", "policies"])
            var policies: [(name: String, document: String)] = []
            if let node = fields.node("policies") {
                guard let mapping = node.mapping else { throw error(node, "policies map a policy name to its JSON text") }
                for (policyName, document) in mapping {
                    guard let name = policyName.string, let text = document.string else { throw error(policyName, "a policy is NAME: JSON") }
                    policies.append((name, text))
                }
            }
            declared.users.append(DeclaredState.User(
                account: fields.string("account"), name: try fields.required("name"), accessKey: fields.string("access-key"),
                secretKey: fields.string("secret-key"), policies: policies, source: source(fields.node)))
        case "buckets":
            try fields.only(["name", "account", "versioning", "lifecycle", "cors", "policy", "notification", "encryption", "kms-key-id"])
            var bucket = DeclaredState.Bucket(name: try fields.required("name"), account: fields.string("account"), source: source(fields.node))
            bucket.versioning = fields.string("versioning")
            bucket.lifecycle = fields.string("lifecycle")
            bucket.cors = fields.string("cors")
            bucket.policy = fields.string("policy")
            bucket.notification = fields.string("notification")
            bucket.encryption = fields.string("encryption")
            bucket.kmsKeyID = fields.string("kms-key-id")
            declared.buckets.append(bucket)
        default:
            break
        }
    }

    func line(_ node: Node) -> Int { node.mark?.line ?? 0 }
    func source(_ node: Node) -> String { "\(path):\(line(node))" }
    func error(_ node: Node, _ reason: String) -> ConfigError { ConfigError("\(source(node)): \(reason)") }

    /// The keys of one item of a section.
    struct Fields {
        let file: ConfigFile
        let node: Node
        let mapping: Node.Mapping

        func node(_ key: String) -> Node? { mapping.first { $0.key.string == key }?.value }
        func string(_ key: String) -> String? { node(key)?.scalar?.string }

        func required(_ key: String) throws(ConfigError) -> String {
            guard let value = string(key), !value.isEmpty else { throw file.error(node, "\(key) is required here") }
            return value
        }

        func double(_ key: String) throws(ConfigError) -> Double? {
            guard let node = node(key) else { return nil }
            guard let value = node.float ?? node.int.map(Double.init) else { throw file.error(node, "\(key) is a number") }
            return value
        }

        func only(_ keys: Set<String>) throws(ConfigError) {
            for (key, _) in mapping where !keys.contains(key.string ?? "") {
                throw file.error(key, "unknown key \(key.string ?? "?") (expected one of \(keys.sorted().joined(separator: ", ")))")
            }
        }
    }
}

struct ConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
