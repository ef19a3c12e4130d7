import Foundation

extension PolicyDocument {
    /// Parses and validates a policy's JSON. Throws ``MalformedPolicy`` with AWS's wording where it differs.
    public static func parse(_ json: [UInt8], kind: Kind) throws(MalformedPolicy) -> PolicyDocument {
        guard json.first(where: { !Self.isSpace($0) }) == UInt8(ascii: "{") else {
            throw MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
        }
        let decoded: JSONValue
        do { decoded = try JSONValue.parse(json, maxDepth: maxJSONDepth) } catch {
            switch error {
            case .tooDeep: throw MalformedPolicy("Invalid policy syntax.")
            case .invalid: throw MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
            }
        }
        guard case .object(let root) = decoded else { throw MalformedPolicy("Policies must be valid JSON and the first byte must be '{'") }
        for field in root.keys where !["Version", "Id", "Statement"].contains(field) {
            throw MalformedPolicy("Unknown field \(field)")
        }
        let version = try optionalString(root["Version"], field: "Version")
        if let version, !["2012-10-17", "2008-10-17"].contains(version) {
            throw MalformedPolicy("Invalid policy version: \(version)")
        }
        let statementValues: [JSONValue]
        switch root["Statement"] {
        case .array(let list): statementValues = list
        case .object(let single): statementValues = [.object(single)]
        default: throw MalformedPolicy("Missing required field Statement")
        }
        guard !statementValues.isEmpty else { throw MalformedPolicy("Could not parse the policy: Statement is empty!") }
        var sids = Set<String>()
        let statements = try statementValues.map { value throws(MalformedPolicy) -> PolicyStatement in
            guard case .object(let statement) = value else { throw MalformedPolicy("Invalid policy syntax.") }
            let parsed = try PolicyStatement.parse(statement, kind: kind)
            if let sid = parsed.sid, !sids.insert(sid).inserted {
                throw MalformedPolicy("Statement IDs (SID) in a single policy must be unique")
            }
            return parsed
        }
        return PolicyDocument(version: version, id: try optionalString(root["Id"], field: "Id"), statements: statements)
    }

    /// The grammar nests at most six containers (document, Statement list, statement, Condition, operator, value
    /// list); two more leave a misplaced container to the grammar's own messages, and anything deeper is refused
    /// before the rest of the document is read.
    static let maxJSONDepth = 8

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    static func optionalString(_ value: JSONValue?, field: String) throws(MalformedPolicy) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value else { throw MalformedPolicy("Invalid policy syntax.") }
        return text
    }

    /// A string or a non-empty list of strings, as most policy elements allow.
    static func strings(_ value: JSONValue?, field: String) throws(MalformedPolicy) -> [String] {
        switch value {
        case .string(let text): return [text]
        case .array(let list):
            let texts = list.compactMap { item -> String? in if case .string(let text) = item { text } else { nil } }
            guard texts.count == list.count, !texts.isEmpty else { throw MalformedPolicy("Invalid policy syntax.") }
            return texts
        default: throw MalformedPolicy("Invalid policy syntax.")
        }
    }
}

extension PolicyStatement {
    static let knownFields: Set<String> = [
        "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition",
    ]

    static func parse(_ statement: [String: JSONValue], kind: PolicyDocument.Kind) throws(MalformedPolicy) -> PolicyStatement {
        for field in statement.keys where !knownFields.contains(field) { throw MalformedPolicy("Unknown field \(field)") }
        guard case .string(let effectName)? = statement["Effect"] else { throw MalformedPolicy("Missing required field Effect") }
        guard let effect = Effect(rawValue: effectName) else { throw MalformedPolicy("Invalid effect: \(effectName)") }
        let actions = try exclusive(statement, "Action", "NotAction", missing: "Missing required field Action")
        for action in actions.values where !Self.isValidAction(action) { throw MalformedPolicy("Policy has invalid action") }
        let resources = try exclusive(statement, "Resource", "NotResource", missing: "Missing required field Resource")
        for resource in resources.values where !(resource == "*" || resource.hasPrefix("arn:")) {
            throw MalformedPolicy("Policy has invalid resource")
        }
        let principal = try statement["Principal"].map { value throws(MalformedPolicy) in try Principals.parse(value) }
        let notPrincipal = try statement["NotPrincipal"].map { value throws(MalformedPolicy) in try Principals.parse(value) }
        switch kind {
        case .resource:
            if principal == nil && notPrincipal == nil { throw MalformedPolicy("Missing required field Principal") }
            if principal != nil && notPrincipal != nil { throw MalformedPolicy("Invalid policy syntax.") }
        case .identity:
            if principal != nil || notPrincipal != nil { throw MalformedPolicy("Policy document should not specify a principal.") }
        }
        return PolicyStatement(
            sid: try PolicyDocument.optionalString(statement["Sid"], field: "Sid"), effect: effect, principal: principal,
            notPrincipal: notPrincipal, actions: actions, resources: resources,
            conditions: try PolicyCondition.parseBlock(statement["Condition"]))
    }

    /// `Name` or `NotName`, exactly one of them.
    private static func exclusive(_ statement: [String: JSONValue], _ name: String, _ notName: String, missing: String) throws(MalformedPolicy) -> Patterns {
        switch (statement[name], statement[notName]) {
        case (let value?, nil): return Patterns(values: try PolicyDocument.strings(value, field: name), negated: false)
        case (nil, let value?): return Patterns(values: try PolicyDocument.strings(value, field: notName), negated: true)
        case (nil, nil): throw MalformedPolicy(missing)
        default: throw MalformedPolicy("Invalid policy syntax.")
        }
    }

    /// `*`, or `service:Action` with wildcards allowed in the action part.
    private static func isValidAction(_ action: String) -> Bool {
        if action == "*" { return true }
        let parts = action.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && parts[0].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }
}

extension PolicyStatement.Principals {
    static func parse(_ value: JSONValue) throws(MalformedPolicy) -> Self {
        if case .string(let text) = value {
            guard text == "*" else { throw MalformedPolicy("Invalid principal in policy") }
            return Self(everyone: true, aws: [], canonicalUsers: [], services: [])
        }
        guard case .object(let map) = value, !map.isEmpty else { throw MalformedPolicy("Invalid principal in policy") }
        var principals = Self(everyone: false, aws: [], canonicalUsers: [], services: [])
        for (kind, names) in map {
            let list = try PolicyDocument.strings(names, field: "Principal")
            switch kind {
            case "AWS":
                for name in list {
                    if name == "*" { principals.everyone = true; continue }
                    let isAccount = name.count == 12 && name.allSatisfy(\.isNumber)
                    guard isAccount || name.hasPrefix("arn:aws:iam::") else { throw MalformedPolicy("Invalid principal in policy") }
                    principals.aws.append(name)
                }
            case "CanonicalUser": principals.canonicalUsers += list
            case "Service", "Federated": principals.services += list
            default: throw MalformedPolicy("Invalid principal in policy")
            }
        }
        return principals
    }
}

extension PolicyCondition {
    static func parseBlock(_ value: JSONValue?) throws(MalformedPolicy) -> [PolicyCondition] {
        guard let value else { return [] }
        guard case .object(let block) = value else { throw MalformedPolicy("Invalid policy syntax.") }
        var conditions: [PolicyCondition] = []
        for (name, entries) in block.sorted(by: { $0.key < $1.key }) {
            guard let condition = ConditionOperator(name) else { throw MalformedPolicy("Invalid Condition type : \(name)") }
            guard case .object(let entries) = entries, !entries.isEmpty else { throw MalformedPolicy("Invalid policy syntax.") }
            for (key, raw) in entries.sorted(by: { $0.key < $1.key }) {
                let items: [JSONValue]
                if case .array(let list) = raw { items = list } else { items = [raw] }
                let values = items.compactMap(\.scalarText)
                guard values.count == items.count, !values.isEmpty else { throw MalformedPolicy("Invalid policy syntax.") }
                guard key.contains(":") else { throw MalformedPolicy("Policy has an invalid condition key") }
                conditions.append(PolicyCondition(condition: condition, key: key, values: values))
            }
        }
        return conditions
    }
}
