import Foundation

/// The policy of a browser POST upload: when it expires and what the form's fields must be.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
public struct PostPolicy: Sendable, Equatable {
    public enum Condition: Sendable, Equatable {
        /// `{"acl": "private"}` or `["eq", "$acl", "private"]`; the field name is lowercased, without `$`.
        case equals(field: String, value: String)
        /// `["starts-with", "$key", "uploads/"]`.
        case startsWith(field: String, prefix: String)
        /// `["content-length-range", min, max]`: the file's size in bytes.
        case lengthRange(ClosedRange<Int64>)

        var field: String? {
            switch self {
            case .equals(let field, _), .startsWith(let field, _): field
            case .lengthRange: nil
            }
        }

        /// The condition as AWS quotes it in a failure message.
        var quoted: String {
            switch self {
            case .equals(let field, let value): "[\"eq\", \"$\(field)\", \"\(value)\"]"
            case .startsWith(let field, let prefix): "[\"starts-with\", \"$\(field)\", \"\(prefix)\"]"
            case .lengthRange(let range): "[\"content-length-range\", \(range.lowerBound), \(range.upperBound)]"
            }
        }
    }

    public var expiration: Date
    public var conditions: [Condition]

    /// Form fields that no condition needs to name: the signature itself and what carries it, the file, the bucket
    /// (compared with the one the request addresses), and `x-ignore-*`. Checksums are verified against the file,
    /// so they need no condition either (the ceph s3-tests upload one uncovered, as the AWS CLI does).
    static func isExempt(_ field: String) -> Bool {
        exemptFields.contains(field) || field.hasPrefix("x-ignore-") || field.hasPrefix("x-amz-checksum-")
    }

    private static let exemptFields: Set<String> = ["policy", "signature", "awsaccesskeyid", "x-amz-signature", "file", "bucket"]

    /// The file's allowed size under every `content-length-range` at once. Ranges that do not overlap leave a
    /// minimum above the maximum, which no file meets: a size that fits one range must not pass the other.
    public struct LengthLimits: Equatable, Sendable {
        public var minimum: Int64
        public var maximum: Int64

        public init(minimum: Int64, maximum: Int64) {
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    public var lengthLimits: LengthLimits? {
        var result: LengthLimits?
        for case .lengthRange(let range) in conditions {
            guard let current = result else {
                result = LengthLimits(minimum: range.lowerBound, maximum: range.upperBound)
                continue
            }
            result = LengthLimits(
                minimum: max(current.minimum, range.lowerBound), maximum: min(current.maximum, range.upperBound))
        }
        return result
    }

    /// The grammar nests three containers (document, conditions, one condition); one more leaves a misplaced
    /// container to the grammar's own messages, and anything deeper is refused before the rest is read.
    static let maxJSONDepth = 4

    /// Decodes and validates the form's `policy` field (base64 of a JSON document).
    public static func parse(base64 text: String) throws(AuthFailure) -> PostPolicy {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw invalid("Invalid JSON.")
        }
        let document: JSONValue
        do { document = try JSONValue.parse(Array(data), maxDepth: maxJSONDepth) } catch {
            switch error {
            case .invalid: throw invalid("Invalid JSON.")
            case .tooDeep: throw invalid("JSON nested deeper than a policy's grammar.")
            }
        }
        guard case .object(let members) = document else { throw invalid("Invalid JSON.") }
        // The document's own keys are case-sensitive: "EXPIRATION" is not an expiration.
        guard let expirationValue = members["expiration"] else { throw invalid("Policy missing expiration.") }
        guard case .string(let expirationText) = expirationValue, let expiration = AWSDate.parseISO8601Extended(expirationText) else {
            throw invalid("Invalid 'expiration' value: '\(expirationValue.scalarText ?? "")'")
        }
        guard let conditionsValue = members["conditions"] else { throw invalid("Policy missing conditions.") }
        guard case .array(let list) = conditionsValue else { throw invalid("Invalid 'conditions' value: must be a List.") }
        var conditions: [Condition] = []
        for item in list { conditions.append(try condition(item)) }
        return PostPolicy(expiration: expiration, conditions: conditions)
    }

    private static func condition(_ value: JSONValue) throws(AuthFailure) -> Condition {
        switch value {
        case .object(let members):
            guard members.count == 1, let (name, fieldValue) = members.first else {
                throw invalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
            }
            guard let text = fieldValue.scalarText else {
                throw invalid("Invalid Simple-Condition: value must be a string.")
            }
            return .equals(field: fieldName(name), value: text)
        case .array(let items):
            guard case .string(let operation)? = items.first else { throw invalid("Invalid Condition: first element must be a string.") }
            switch operation.lowercased() {
            case "eq", "starts-with":
                guard items.count == 3, case .string(let reference) = items[1], reference.hasPrefix("$"),
                      let operand = items[2].scalarText
                else { throw invalid("Invalid Condition: wrong number of arguments or a field not named with '$'.") }
                let field = fieldName(String(reference.dropFirst()))
                return operation.lowercased() == "eq" ? .equals(field: field, value: operand) : .startsWith(field: field, prefix: operand)
            case "content-length-range":
                guard items.count == 3, let lower = lengthBound(items[1]), let upper = lengthBound(items[2]), lower <= upper else {
                    throw invalid("Invalid content-length-range condition: \(items.compactMap(\.scalarText))")
                }
                return .lengthRange(lower...upper)
            default:
                throw invalid("Invalid Condition: unknown operation '\(operation)'.")
            }
        default:
            throw invalid("Invalid Condition: must be a List or a Simple-Condition.")
        }
    }

    private static func fieldName(_ name: String) -> String { name.lowercased() }

    private static func lengthBound(_ value: JSONValue) -> Int64? {
        guard let text = value.scalarText, let bound = Int64(text), bound >= 0 else { return nil }
        return bound
    }

    private static func invalid(_ reason: String) -> AuthFailure {
        AuthFailure(code: .invalidPolicyDocument, message: "Invalid Policy: " + reason)
    }

    /// Checks the form against the policy: not expired, every condition met, and every field the form sent named
    /// by some condition. `fields` has lowercased names, the key already expanded, and `bucket` the bucket the
    /// request addresses.
    public func check(fields: [String: String], now: Date) throws(AuthFailure) {
        guard now <= expiration else { throw Self.denied("Policy expired.") }
        for condition in conditions {
            switch condition {
            case .equals(let field, let value):
                guard fields[field] ?? "" == value else { throw Self.denied("Policy Condition failed: \(condition.quoted)") }
            case .startsWith(let field, let prefix):
                guard Self.startsWith(fields[field] ?? "", prefix, field: field) else {
                    throw Self.denied("Policy Condition failed: \(condition.quoted)")
                }
            case .lengthRange:
                continue
            }
        }
        let named = Set(conditions.compactMap(\.field))
        let extra = fields.keys.filter { !named.contains($0) && !Self.isExempt($0) }
        if let first = extra.sorted().first { throw Self.denied("Extra input fields: \(first)") }
    }

    /// `starts-with` on Content-Type holds when every one of several comma-separated types starts so, as on AWS.
    static func startsWith(_ value: String, _ prefix: String, field: String) -> Bool {
        guard field == "content-type", value.contains(",") else { return value.hasPrefix(prefix) }
        return value.split(separator: ",").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
    }

    static func denied(_ reason: String) -> AuthFailure {
        AuthFailure(code: .accessDenied, message: "Invalid according to Policy: " + reason)
    }
}
