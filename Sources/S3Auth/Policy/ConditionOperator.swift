import Foundation

/// A Condition operator such as `StringLike`, `ForAnyValue:StringEquals` or `NumericLessThanIfExists`.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
public struct ConditionOperator: Sendable, Equatable {
    public enum Comparison: String, Sendable, CaseIterable {
        case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
        case stringLike = "StringLike", stringNotLike = "StringNotLike"
        case numericEquals = "NumericEquals", numericNotEquals = "NumericNotEquals"
        case numericLessThan = "NumericLessThan", numericLessThanEquals = "NumericLessThanEquals"
        case numericGreaterThan = "NumericGreaterThan", numericGreaterThanEquals = "NumericGreaterThanEquals"
        case dateEquals = "DateEquals", dateNotEquals = "DateNotEquals"
        case dateLessThan = "DateLessThan", dateLessThanEquals = "DateLessThanEquals"
        case dateGreaterThan = "DateGreaterThan", dateGreaterThanEquals = "DateGreaterThanEquals"
        case bool = "Bool", binaryEquals = "BinaryEquals"
        case ipAddress = "IpAddress", notIpAddress = "NotIpAddress"
        case arnEquals = "ArnEquals", arnNotEquals = "ArnNotEquals", arnLike = "ArnLike", arnNotLike = "ArnNotLike"
        case null = "Null"

        /// The negated operators hold when the request value matches none of the policy's values (and when the
        /// key is absent).
        var isNegated: Bool {
            switch self {
            case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals, .dateNotEquals,
                 .notIpAddress, .arnNotEquals, .arnNotLike: true
            default: false
            }
        }

        /// The positive operator a negated one inverts.
        var positive: Comparison {
            switch self {
            case .stringNotEquals: .stringEquals
            case .stringNotEqualsIgnoreCase: .stringEqualsIgnoreCase
            case .stringNotLike: .stringLike
            case .numericNotEquals: .numericEquals
            case .dateNotEquals: .dateEquals
            case .notIpAddress: .ipAddress
            case .arnNotEquals: .arnEquals
            case .arnNotLike: .arnLike
            default: self
            }
        }
    }

    public enum SetQualifier: String, Sendable { case forAnyValue = "ForAnyValue", forAllValues = "ForAllValues" }

    public var comparison: Comparison
    public var ifExists: Bool
    public var qualifier: SetQualifier?

    /// Parses an operator name; nil if it names none.
    public init?(_ name: String) {
        var rest = Substring(name)
        qualifier = nil
        if let colon = rest.firstIndex(of: ":") {
            guard let qualifier = SetQualifier(rawValue: String(rest[..<colon])) else { return nil }
            self.qualifier = qualifier
            rest = rest[rest.index(after: colon)...]
        }
        ifExists = rest.hasSuffix("IfExists")
        if ifExists { rest = rest.dropLast("IfExists".count) }
        guard let comparison = Comparison(rawValue: String(rest)), !(ifExists && comparison == .null) else { return nil }
        self.comparison = comparison
    }

    /// Whether the condition holds for the request's values of its key (nil when the request has none).
    func holds(policyValues: [String], requestValues: [String]?) -> Bool {
        if comparison == .null {
            // {"Null": {"key": "true"}} holds when the key is absent; "false" when it is present.
            let absent = requestValues?.isEmpty ?? true
            return policyValues.contains { ($0.lowercased() == "true") == absent }
        }
        guard let requestValues, !requestValues.isEmpty else {
            if ifExists { return true }
            switch qualifier {
            case .forAllValues: return true  // vacuously: no value fails
            case .forAnyValue: return false
            case nil: return comparison.isNegated
            }
        }
        let positive = comparison.positive
        let matchesAny = { (value: String) in policyValues.contains { Self.compare(positive, policy: $0, request: value) } }
        let holdsFor = { (value: String) in comparison.isNegated ? !matchesAny(value) : matchesAny(value) }
        switch qualifier {
        case .forAllValues: return requestValues.allSatisfy(holdsFor)
        case .forAnyValue: return requestValues.contains(where: holdsFor)
        case nil:
            // A single-valued key: the first value is the value.
            return holdsFor(requestValues[0])
        }
    }

    static func compare(_ comparison: Comparison, policy: String, request: String) -> Bool {
        switch comparison {
        case .stringEquals, .binaryEquals: return policy == request
        case .stringEqualsIgnoreCase: return policy.lowercased() == request.lowercased()
        case .stringLike: return Wildcard.matches(policy, request)
        case .numericEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals:
            guard let p = Double(policy), let r = Double(request) else { return false }
            return ordered(comparison, r, p)
        case .dateEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            guard let p = parseDate(policy), let r = parseDate(request) else { return false }
            return ordered(comparison, r.timeIntervalSince1970, p.timeIntervalSince1970)
        case .bool: return policy.lowercased() == request.lowercased()
        case .ipAddress: return IPAddressRange(policy)?.contains(request) ?? false
        case .arnEquals: return policy == request
        case .arnLike: return arnLike(policy, request)
        default: return false
        }
    }

    private static func ordered(_ comparison: Comparison, _ request: Double, _ policy: Double) -> Bool {
        switch comparison {
        case .numericEquals, .dateEquals: request == policy
        case .numericLessThan, .dateLessThan: request < policy
        case .numericLessThanEquals, .dateLessThanEquals: request <= policy
        case .numericGreaterThan, .dateGreaterThan: request > policy
        default: request >= policy
        }
    }

    /// ISO 8601 ("2026-01-01T00:00:00Z", with or without seconds or a fraction, or a date alone) or epoch seconds.
    static func parseDate(_ text: String) -> Date? {
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        let formats: [ISO8601DateFormatter.Options] = [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds], [.withFullDate],
        ]
        for options in formats {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    /// ArnLike compares the six colon-separated parts of an ARN, each with wildcards.
    private static func arnLike(_ policy: String, _ request: String) -> Bool {
        let p = policy.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let r = request.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard p.count == 6, r.count == 6 else { return false }
        return zip(p, r).allSatisfy { Wildcard.matches(String($0), String($1)) }
    }
}
