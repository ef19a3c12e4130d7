import Foundation
import ObjectStore

/// The LifecycleConfiguration document: parsed and checked with S3's rules, and written back.
public enum LifecycleXML {
    public static let maxRules = 1000
    public static let transitionClasses: Set<String> = ["GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR"]

    public static func parse(_ document: [UInt8]) throws(S3Error) -> LifecycleConfiguration {
        let root = try XMLReader.parse(document, limits: .lifecycle)
        guard root.name == "LifecycleConfiguration" else { throw S3Error(.malformedXML) }
        let elements = root.children("Rule")
        guard !elements.isEmpty else { throw S3Error(.malformedXML) }
        guard elements.count <= maxRules else {
            throw S3Error(.invalidArgument, "Configuration must not have more than \(maxRules) rules.", details: [("ArgumentName", "Rule")])
        }
        var ids: Set<String> = []
        let rules = try elements.map { element throws(S3Error) -> LifecycleRule in
            let rule = try parseRule(element)
            guard ids.insert(rule.id).inserted else {
                throw S3Error(.invalidArgument, "Rule ID must be unique. Found same ID for more than one rule",
                              details: [("ArgumentName", "ID"), ("ArgumentValue", rule.id)])
            }
            return rule
        }
        return LifecycleConfiguration(rules: rules)
    }

    private static func parseRule(_ element: XMLElement) throws(S3Error) -> LifecycleRule {
        let id = text(element, "ID") ?? randomID()
        guard id.count <= 255 else {
            throw S3Error(.invalidArgument, "ID length should not exceed allowed limit of 255", details: [("ArgumentName", "ID")])
        }
        let enabled: Bool
        switch text(element, "Status") {
        case "Enabled"?: enabled = true
        case "Disabled"?: enabled = false
        default: throw S3Error(.malformedXML)
        }
        let filter = try parseFilter(element)
        var rule = LifecycleRule(id: id, enabled: enabled, filter: filter)
        if let expiration = element.child("Expiration") {
            let days = try positive(expiration, "Days", action: "Expiration")
            let date = try midnight(expiration)
            let marker = try boolean(expiration, "ExpiredObjectDeleteMarker")
            let given = [days != nil, date != nil, marker != nil].filter { $0 }.count
            guard given == 1 else { throw S3Error(.malformedXML) }
            if marker != nil, !filter.tags.isEmpty {
                throw S3Error(.invalidArgument, "ExpiredObjectDeleteMarker cannot be specified with object tags.")
            }
            rule.expiration = .init(days: days, date: date, expiredObjectDeleteMarker: marker)
        }
        for transition in element.children("Transition") {
            let days = try zeroOrMore(transition, "Days", action: "Transition")
            let date = try midnight(transition)
            guard (days == nil) != (date == nil), let storageClass = text(transition, "StorageClass"),
                  transitionClasses.contains(storageClass)
            else { throw S3Error(.malformedXML) }
            rule.transitions.append(.init(days: days, date: date, storageClass: storageClass))
        }
        if let noncurrent = element.child("NoncurrentVersionExpiration") {
            let days = try positive(noncurrent, "NoncurrentDays", action: "NoncurrentVersionExpiration")
            let newer = try count(noncurrent, "NewerNoncurrentVersions")
            guard days != nil || newer != nil else { throw S3Error(.malformedXML) }
            rule.noncurrentExpiration = .init(noncurrentDays: days, newerNoncurrentVersions: newer)
        }
        for transition in element.children("NoncurrentVersionTransition") {
            guard let days = try zeroOrMore(transition, "NoncurrentDays", action: "NoncurrentVersionTransition"),
                  let storageClass = text(transition, "StorageClass"), transitionClasses.contains(storageClass)
            else { throw S3Error(.malformedXML) }
            rule.noncurrentTransitions.append(.init(
                noncurrentDays: days, storageClass: storageClass, newerNoncurrentVersions: try count(transition, "NewerNoncurrentVersions")))
        }
        if let abort = element.child("AbortIncompleteMultipartUpload") {
            guard let days = try positive(abort, "DaysAfterInitiation", action: "AbortIncompleteMultipartUpload") else {
                throw S3Error(.malformedXML)
            }
            if !filter.tags.isEmpty {
                throw S3Error(.invalidRequest, "AbortIncompleteMultipartUpload cannot be specified with Tags.")
            }
            rule.abortIncompleteUploadDays = days
        }
        guard rule.expiration != nil || !rule.transitions.isEmpty || rule.noncurrentExpiration != nil
            || !rule.noncurrentTransitions.isEmpty || rule.abortIncompleteUploadDays != nil
        else { throw S3Error(.invalidRequest, "At least one action needs to be specified in a rule") }
        return rule
    }

    private static func parseFilter(_ rule: XMLElement) throws(S3Error) -> LifecycleFilter {
        let legacyPrefix = rule.child("Prefix")
        let filterElement = rule.child("Filter")
        switch (legacyPrefix, filterElement) {
        case (let prefix?, nil):
            return LifecycleFilter(form: .rulePrefix, prefix: prefix.text)
        case (nil, let filter?):
            let conditions = filter.children.filter { ["Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And"].contains($0.name) }
            guard conditions.count == filter.children.count, conditions.count <= 1 else { throw S3Error(.malformedXML) }
            guard let condition = conditions.first else { return LifecycleFilter(form: .single) }
            if condition.name == "And" {
                var result = LifecycleFilter(form: .and)
                result.prefix = text(condition, "Prefix", keepEmpty: true)
                result.tags = try condition.children("Tag").map(tag)
                result.sizeGreaterThan = try size(condition, "ObjectSizeGreaterThan")
                result.sizeLessThan = try size(condition, "ObjectSizeLessThan")
                try TagSet.validate(result.tags, limit: TagSet.maxBucketTags)
                return result
            }
            var result = LifecycleFilter(form: .single)
            switch condition.name {
            case "Prefix": result.prefix = condition.text
            case "Tag": result.tags = [try tag(condition)]
            case "ObjectSizeGreaterThan": result.sizeGreaterThan = try size(filter, "ObjectSizeGreaterThan")
            default: result.sizeLessThan = try size(filter, "ObjectSizeLessThan")
            }
            return result
        default:
            throw S3Error(.malformedXML)
        }
    }

    public static func write(_ configuration: LifecycleConfiguration, into xml: inout XMLWriter) {
        xml.element("LifecycleConfiguration", namespace: XMLWriter.s3Namespace) { x in
            for rule in configuration.rules {
                x.element("Rule") { r in
                    r.element("ID", rule.id)
                    writeFilter(rule.filter, into: &r)
                    r.element("Status", rule.enabled ? "Enabled" : "Disabled")
                    for transition in rule.transitions {
                        r.element("Transition") { t in
                            if let date = transition.date { t.element("Date", HTTPDate.iso8601(date)) }
                            if let days = transition.days { t.element("Days", days) }
                            t.element("StorageClass", transition.storageClass)
                        }
                    }
                    if let expiration = rule.expiration {
                        r.element("Expiration") { e in
                            if let date = expiration.date { e.element("Date", HTTPDate.iso8601(date)) }
                            if let days = expiration.days { e.element("Days", days) }
                            if let marker = expiration.expiredObjectDeleteMarker { e.element("ExpiredObjectDeleteMarker", marker) }
                        }
                    }
                    for transition in rule.noncurrentTransitions {
                        r.element("NoncurrentVersionTransition") { t in
                            t.element("NoncurrentDays", transition.noncurrentDays)
                            t.element("StorageClass", transition.storageClass)
                            if let newer = transition.newerNoncurrentVersions { t.element("NewerNoncurrentVersions", newer) }
                        }
                    }
                    if let noncurrent = rule.noncurrentExpiration {
                        r.element("NoncurrentVersionExpiration") { n in
                            if let days = noncurrent.noncurrentDays { n.element("NoncurrentDays", days) }
                            if let newer = noncurrent.newerNoncurrentVersions { n.element("NewerNoncurrentVersions", newer) }
                        }
                    }
                    if let days = rule.abortIncompleteUploadDays {
                        r.element("AbortIncompleteMultipartUpload") { a in a.element("DaysAfterInitiation", days) }
                    }
                }
            }
        }
    }

    private static func writeFilter(_ filter: LifecycleFilter, into r: inout XMLWriter) {
        switch filter.form {
        case .rulePrefix:
            r.element("Prefix", filter.prefix ?? "")
        case .single:
            r.element("Filter") { f in
                if let prefix = filter.prefix { f.element("Prefix", prefix) }
                for tag in filter.tags { writeTag(tag, into: &f) }
                if let size = filter.sizeGreaterThan { f.element("ObjectSizeGreaterThan", size) }
                if let size = filter.sizeLessThan { f.element("ObjectSizeLessThan", size) }
            }
        case .and:
            r.element("Filter") { f in
                f.element("And") { a in
                    if let prefix = filter.prefix { a.element("Prefix", prefix) }
                    for tag in filter.tags { writeTag(tag, into: &a) }
                    if let size = filter.sizeGreaterThan { a.element("ObjectSizeGreaterThan", size) }
                    if let size = filter.sizeLessThan { a.element("ObjectSizeLessThan", size) }
                }
            }
        }
    }

    private static func writeTag(_ tag: ObjectTag, into x: inout XMLWriter) {
        x.element("Tag") { t in
            t.element("Key", tag.key)
            t.element("Value", tag.value)
        }
    }

    // MARK: Field readers

    private static func text(_ element: XMLElement, _ name: String, keepEmpty: Bool = true) -> String? {
        element.child(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    private static func tag(_ element: XMLElement) throws(S3Error) -> ObjectTag {
        guard let key = element.child("Key")?.text, let value = element.child("Value")?.text else { throw S3Error(.malformedXML) }
        return ObjectTag(key: key, value: value)
    }

    private static func positive(_ element: XMLElement, _ name: String, action: String) throws(S3Error) -> Int? {
        guard let raw = text(element, name) else { return nil }
        // A 32-bit Integer in AWS's model: Int32.max days (5.8 million years) is the most a date computation sees.
        guard let value = RequestNumber.integer(raw), value > 0 else {
            throw S3Error(.invalidArgument, "'\(name)' for \(action) action must be a positive integer", details: [("ArgumentName", name)])
        }
        return value
    }

    private static func zeroOrMore(_ element: XMLElement, _ name: String, action: String) throws(S3Error) -> Int? {
        guard let raw = text(element, name) else { return nil }
        guard let value = RequestNumber.integer(raw) else {
            throw S3Error(.invalidArgument, "'\(name)' in the \(action) action must be nonnegative", details: [("ArgumentName", name)])
        }
        return value
    }

    private static func count(_ element: XMLElement, _ name: String) throws(S3Error) -> Int? {
        guard let raw = text(element, name) else { return nil }
        guard let value = RequestNumber.integer(raw), (1...100).contains(value) else {
            throw S3Error(.invalidArgument, "'\(name)' must be between 1 and 100", details: [("ArgumentName", name)])
        }
        return value
    }

    private static func size(_ element: XMLElement, _ name: String) throws(S3Error) -> Int64? {
        guard let raw = text(element, name) else { return nil }
        guard let value = Int64(raw), value >= 0 else { throw S3Error(.malformedXML) }
        return value
    }

    private static func boolean(_ element: XMLElement, _ name: String) throws(S3Error) -> Bool? {
        switch text(element, name) {
        case nil: return nil
        case "true"?: return true
        case "false"?: return false
        default: throw S3Error(.malformedXML)
        }
    }

    /// A `Date`, which S3 requires to be midnight UTC.
    private static func midnight(_ element: XMLElement) throws(S3Error) -> Date? {
        guard let raw = text(element, "Date") else { return nil }
        guard let date = HTTPDate.parseISO8601(raw) else { throw S3Error(.malformedXML) }
        guard date.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400) == 0 else {
            throw S3Error(.invalidArgument, "'Date' must be at midnight GMT", details: [("ArgumentName", "Date")])
        }
        return date
    }

    private static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<32).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
