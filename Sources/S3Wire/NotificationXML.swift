import Foundation
import ObjectStore

/// The `NotificationConfiguration` document of Put/GetBucketNotificationConfiguration.
public enum NotificationXML {
    public static let maxDocumentBytes = 64 << 10
    /// AWS's limit on a filter rule's value.
    static let maxFilterValueLength = 1024

    /// Parses and validates a document; `knownTargets` are the ARNs of the targets this server has. A target
    /// it does not know, an event it does not send, a bad filter, or two rules that could send the same event
    /// about one key are refused as AWS refuses them: 400 InvalidArgument, naming the offending value.
    public static func parse(_ document: [UInt8], knownTargets: Set<String>) throws(S3Error) -> NotificationConfiguration {
        guard document.count <= maxDocumentBytes else { throw S3Error(.malformedXML) }
        let root = try XMLReader.parse(document, limits: XMLLimits(maxElements: 10_000))
        guard root.name == "NotificationConfiguration" else { throw S3Error(.malformedXML) }
        var rules: [NotificationRule] = []
        for kind in [NotificationRule.Kind.topic, .queue, .lambda] {
            for element in root.children(kind.rawValue + "Configuration") {
                rules.append(try rule(element, kind: kind, knownTargets: knownTargets))
            }
        }
        try requireDistinctIDs(rules)
        try requireNoOverlap(rules)
        return NotificationConfiguration(rules: rules, eventBridge: root.child("EventBridgeConfiguration") != nil)
    }

    public static func write(_ configuration: NotificationConfiguration?) -> XMLWriter {
        var xml = XMLWriter()
        xml.element("NotificationConfiguration", namespace: XMLWriter.s3Namespace) { x in
            guard let configuration else { return }
            for kind in [NotificationRule.Kind.topic, .queue, .lambda] {
                for rule in configuration.rules where rule.kind == kind {
                    x.element(kind.rawValue + "Configuration") { c in
                        c.element("Id", rule.id)
                        c.element(kind.rawValue, rule.targetARN)
                        for event in rule.events { c.element("Event", event) }
                        if rule.prefix != nil || rule.suffix != nil {
                            c.element("Filter") { f in
                                f.element("S3Key") { k in
                                    for (name, value) in [("Prefix", rule.prefix), ("Suffix", rule.suffix)] {
                                        guard let value else { continue }
                                        k.element("FilterRule") { r in
                                            r.element("Name", name)
                                            r.element("Value", value)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if configuration.eventBridge { x.element("EventBridgeConfiguration") { _ in } }
        }
        return xml
    }

    private static func rule(_ element: XMLElement, kind: NotificationRule.Kind, knownTargets: Set<String>) throws(S3Error) -> NotificationRule {
        guard let arn = element.child(kind.rawValue)?.text.trimmed, !arn.isEmpty else { throw S3Error(.malformedXML) }
        guard knownTargets.contains(arn) else {
            throw invalid("Unable to validate the following destination configurations", name: arn, value: "The destination is not a target configured on this server")
        }
        let events = element.children("Event").map(\.text.trimmed)
        guard !events.isEmpty else { throw S3Error(.malformedXML) }
        for event in events where !NotificationConfiguration.supportedEvents.contains(event) {
            throw invalid("The event is not supported for notifications", name: "Event", value: event)
        }
        var prefix: String?
        var suffix: String?
        for filterRule in element.child("Filter")?.child("S3Key")?.children("FilterRule") ?? [] {
            guard let name = filterRule.child("Name")?.text.trimmed, let value = filterRule.child("Value")?.text else {
                throw S3Error(.malformedXML)
            }
            guard value.utf8.count <= maxFilterValueLength else {
                throw invalid("The filter rule value is longer than 1024 characters", name: "FilterRule", value: name)
            }
            switch name.lowercased() {
            case "prefix":
                guard prefix == nil else { throw invalid("Cannot specify more than one prefix rule in a filter.", name: "FilterRule", value: name) }
                prefix = value
            case "suffix":
                guard suffix == nil else { throw invalid("Cannot specify more than one suffix rule in a filter.", name: "FilterRule", value: name) }
                suffix = value
            default:
                throw invalid("filter rule name must be either prefix or suffix", name: "FilterRule", value: name)
            }
        }
        let id = element.child("Id")?.text.trimmed
        return NotificationRule(
            id: id?.isEmpty == false ? id! : generatedID(), kind: kind, targetARN: arn, events: events,
            prefix: prefix, suffix: suffix)
    }

    private static func requireDistinctIDs(_ rules: [NotificationRule]) throws(S3Error) {
        var seen: Set<String> = []
        for rule in rules where !seen.insert(rule.id).inserted {
            throw invalid("Configuration IDs must be unique", name: "Id", value: rule.id)
        }
    }

    /// AWS refuses two rules that share an event type when one key could pass both filters: their prefixes are
    /// one a prefix of the other and their suffixes one a suffix of the other (a missing filter matches all).
    private static func requireNoOverlap(_ rules: [NotificationRule]) throws(S3Error) {
        for (i, a) in rules.enumerated() {
            for b in rules[(i + 1)...] {
                let sharesEvent = a.events.contains { x in b.events.contains { y in NotificationRule.patternsOverlap(x, y) } }
                let prefixes = (a.prefix ?? "", b.prefix ?? "")
                let suffixes = (a.suffix ?? "", b.suffix ?? "")
                let prefixesOverlap = prefixes.0.hasPrefix(prefixes.1) || prefixes.1.hasPrefix(prefixes.0)
                let suffixesOverlap = suffixes.0.hasSuffix(suffixes.1) || suffixes.1.hasSuffix(suffixes.0)
                if sharesEvent && prefixesOverlap && suffixesOverlap {
                    throw invalid(
                        "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                        name: "Configuration", value: "\(a.id), \(b.id)")
                }
            }
        }
    }

    /// AWS names a rule sent without an Id with a random one.
    private static func generatedID() -> String {
        Data(UUID().uuidString.utf8).base64EncodedString()
    }

    private static func invalid(_ message: String, name: String, value: String) -> S3Error {
        S3Error(.invalidArgument, message, details: [("ArgumentName", name), ("ArgumentValue", value)])
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
