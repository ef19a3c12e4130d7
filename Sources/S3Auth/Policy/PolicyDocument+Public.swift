/// Whether a bucket policy is public, as Block Public Access and GetBucketPolicyStatus define it:
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
extension PolicyDocument {
    /// Condition keys that, tested for fixed values, pin a statement to known callers and make it non-public: AWS's
    /// list, and aws:PrincipalAccount and aws:PrincipalArn, which name a principal as the Principal element would.
    static let confiningKeys: Set<String> = [
        "aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:sourceaccount", "aws:sourcearn",
        "aws:sourceip", "aws:sourceowner", "aws:sourcevpc", "aws:sourcevpce", "aws:userid",
        "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
    ]

    /// The policy's size without the whitespace between JSON tokens, which is what AWS's size limits count.
    public static func compactSize(_ document: [UInt8]) -> Int {
        var size = 0
        var inString = false
        var escaped = false
        for byte in document {
            if inString {
                size += 1
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                size += 1
            } else if ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains(byte) {
                size += 1
            }
        }
        return size
    }

    /// True when some statement grants to the public: Block Public Access refuses to store such a policy
    /// (BlockPublicPolicy) and serves it to the owning account alone (RestrictPublicBuckets).
    public var isPublic: Bool {
        statements.contains(where: \.grantsToThePublic)
    }
}

extension PolicyStatement {
    /// An Allow to everyone (`*`, `{"AWS": "*"}`, or everyone but some through NotPrincipal) that no condition
    /// confines to fixed callers. AWS begins by assuming a policy is public and keeps it so unless a condition
    /// proves otherwise; conditions are ANDed, so one confining condition confines the statement.
    var grantsToThePublic: Bool {
        guard effect == .allow, principal?.everyone == true || notPrincipal != nil else { return false }
        return !conditions.contains(where: \.confinesCaller)
    }
}

extension PolicyCondition {
    /// Whether the condition holds only for callers with one of its values of a confining key: a positive test
    /// that fails when the key is absent, of values without wildcards or policy variables (every value: one
    /// `*` among them lets anyone in), and for `aws:SourceIp`, of address blocks no wider than AWS allows.
    var confinesCaller: Bool {
        let name = key.lowercased()
        guard PolicyDocument.confiningKeys.contains(name), condition.failsWithoutKey else { return false }
        if name == "aws:sourceip" {
            return condition.comparison == .ipAddress && values.allSatisfy { IPAddressRange($0)?.confinesCallers == true }
        }
        switch condition.comparison {
        case .stringEquals, .stringEqualsIgnoreCase, .stringLike, .arnEquals, .arnLike:
            return values.allSatisfy(Self.isFixed)
        default:
            return false
        }
    }

    /// A fixed value, as AWS's rule says: no `*` or `?` (wildcards to StringLike and ArnLike; AWS's rule counts
    /// them under any operator) and no `${...}` policy variable, whose value comes from the request.
    static func isFixed(_ value: String) -> Bool {
        !value.contains("*") && !value.contains("?") && !value.contains("${")
    }
}

extension ConditionOperator {
    /// Whether the operator is false for a request without the key. Negated operators, `...IfExists` and
    /// `ForAllValues:` are true then (ForAllValues vacuously: no value fails), so they confine no one, whatever
    /// their values; `ForAnyValue:` is false without the key and, on a single-valued key, is the plain test.
    var failsWithoutKey: Bool {
        !comparison.isNegated && !ifExists && qualifier != .forAllValues && comparison != .null
    }
}

extension PolicyDocument {
    /// The first Resource that cannot name the bucket or its objects (AWS refuses such a bucket policy with
    /// "Policy has invalid resource"); nil if every one can.
    public func resourceOutside(bucket: String) -> String? {
        let target = "arn:aws:s3:::" + bucket
        for statement in statements where !statement.resources.negated {
            for pattern in statement.resources.values {
                let literal = pattern.prefix { $0 != "*" && $0 != "?" }
                if literal.count < pattern.count, target.hasPrefix(literal) { continue }
                guard literal.hasPrefix(target) else { return pattern }
                let rest = literal.dropFirst(target.count)
                guard rest.isEmpty || rest.hasPrefix("/") else { return pattern }
            }
        }
        return nil
    }
}

extension PolicyDocument {
    /// Whether a condition tests `s3:ExistingObjectTag/...`: only then must the authorizer read the object's tags.
    public var mentionsExistingObjectTags: Bool {
        statements.contains { statement in
            statement.conditions.contains { $0.key.lowercased().hasPrefix("s3:existingobjecttag/") }
        }
    }

    /// The first principal that is neither `*`, a 12-digit account id, an IAM ARN of such an account, nor a
    /// 64-hex canonical user id; AWS refuses such a bucket policy with "Invalid principal in policy".
    public var invalidPrincipal: String? {
        for statement in statements {
            for principals in [statement.principal, statement.notPrincipal].compactMap({ $0 }) {
                for value in principals.aws where !Self.isValidAWSPrincipal(value) { return value }
                for value in principals.canonicalUsers where !(value.utf8.count == 64 && value.utf8.allSatisfy(isHexDigit)) {
                    return value
                }
            }
        }
        return nil
    }

    /// The first value of an IpAddress or NotIpAddress condition that is neither an address nor a CIDR block
    /// ("300.1.1.1/8", "1.2.3.4/33", "abc"); AWS refuses such a policy as malformed. Checked where a policy is
    /// stored, not by ``parse(_:kind:)``: a document stored before this check still loads, its Deny statements
    /// binding, its bad values matching nothing as they always did.
    public var invalidAddress: String? {
        for statement in statements {
            for condition in statement.conditions
            where condition.condition.comparison == .ipAddress || condition.condition.comparison == .notIpAddress {
                if let value = condition.values.first(where: { IPAddressRange($0) == nil }) { return value }
            }
        }
        return nil
    }

    static func isValidAWSPrincipal(_ value: String) -> Bool {
        if value == "*" || isAccountID(value) { return true }
        guard value.hasPrefix("arn:aws:iam::") else { return false }
        let rest = value.dropFirst("arn:aws:iam::".count)
        guard let colon = rest.firstIndex(of: ":"), isAccountID(String(rest[..<colon])) else { return false }
        let resource = rest[rest.index(after: colon)...]
        return resource == "root" || resource.hasPrefix("user/") || resource.hasPrefix("role/")
    }

    static func isAccountID(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}

extension PolicyDocument {
    /// The policy with its Allow statements dropped: what still binds where it may grant nothing.
    public var denialsOnly: PolicyDocument {
        var copy = self
        copy.statements = statements.filter { $0.effect == .deny }
        return copy
    }
}

extension PolicyDocument {
    /// Whether evaluating the policy reads the request's condition keys: some statement has a Condition, or a
    /// policy variable in its Resource.
    public var readsRequestKeys: Bool {
        statements.contains { statement in
            !statement.conditions.isEmpty || statement.resources.values.contains { $0.contains("${") }
        }
    }
}
