import Foundation
import HTTPTypes
import ObjectStore

/// Object lock on the wire: the ObjectLockConfiguration, Retention and LegalHold documents, and the
/// `x-amz-object-lock-*` headers of a write. Parsing checks S3's rules; nothing here does I/O.
public enum ObjectLockXML {
    /// S3's ceiling on a default retention period.
    public static let maxDays = 36_500
    public static let maxYears = 100

    public static func parseConfiguration(_ document: [UInt8]) throws(S3Error) -> ObjectLockConfiguration {
        let root = try XMLReader.parse(document)
        guard root.name == "ObjectLockConfiguration", text(root, "ObjectLockEnabled") == "Enabled" else {
            throw S3Error(.malformedXML)
        }
        guard let rule = root.child("Rule") else { return ObjectLockConfiguration() }
        guard let retention = rule.child("DefaultRetention"), let mode = text(retention, "Mode").flatMap(ObjectLockMode.init)
        else { throw S3Error(.malformedXML) }
        let days = try period(retention, "Days", limit: maxDays)
        let years = try period(retention, "Years", limit: maxYears)
        guard (days == nil) != (years == nil) else { throw S3Error(.malformedXML) }
        return ObjectLockConfiguration(defaultRetention: DefaultRetention(mode: mode, days: days, years: years))
    }

    public static func write(_ configuration: ObjectLockConfiguration, into xml: inout XMLWriter) {
        xml.element("ObjectLockConfiguration", namespace: XMLWriter.s3Namespace) { x in
            x.element("ObjectLockEnabled", "Enabled")
            if let retention = configuration.defaultRetention {
                x.element("Rule") { r in
                    r.element("DefaultRetention") { d in
                        d.element("Mode", retention.mode.rawValue)
                        if let days = retention.days { d.element("Days", days) }
                        if let years = retention.years { d.element("Years", years) }
                    }
                }
            }
        }
    }

    /// A Retention document; an empty one (no Mode, no date) removes the retention and parses to nil.
    public static func parseRetention(_ document: [UInt8], now: Date) throws(S3Error) -> ObjectRetention? {
        let root = try XMLReader.parse(document)
        guard root.name == "Retention" else { throw S3Error(.malformedXML) }
        let modeText = text(root, "Mode")
        let dateText = text(root, "RetainUntilDate")
        if modeText == nil && dateText == nil { return nil }
        guard let mode = modeText.flatMap(ObjectLockMode.init), let dateText else { throw S3Error(.malformedXML) }
        guard let until = HTTPDate.parseISO8601(dateText) else { throw S3Error(.malformedXML) }
        return ObjectRetention(mode: mode, retainUntil: try future(until, now: now))
    }

    public static func write(_ retention: ObjectRetention, into xml: inout XMLWriter) {
        xml.element("Retention", namespace: XMLWriter.s3Namespace) { x in
            x.element("Mode", retention.mode.rawValue)
            x.element("RetainUntilDate", HTTPDate.iso8601(retention.retainUntil))
        }
    }

    public static func parseLegalHold(_ document: [UInt8]) throws(S3Error) -> Bool {
        let root = try XMLReader.parse(document)
        guard root.name == "LegalHold" else { throw S3Error(.malformedXML) }
        switch text(root, "Status") {
        case "ON"?: return true
        case "OFF"?: return false
        default: throw S3Error(.malformedXML)
        }
    }

    public static func writeLegalHold(_ on: Bool, into xml: inout XMLWriter) {
        xml.element("LegalHold", namespace: XMLWriter.s3Namespace) { x in x.element("Status", on ? "ON" : "OFF") }
    }

    /// What a PutObject, CopyObject or CreateMultipartUpload asks for in its `x-amz-object-lock-*` headers.
    public struct Request: Sendable, Equatable {
        public var retention: ObjectRetention?
        public var legalHold: Bool?

        public var isEmpty: Bool { retention == nil && legalHold == nil }

        /// Throws InvalidRequest if the request asks for lock in a bucket without it (`configuration` nil).
        public func validate(for configuration: ObjectLockConfiguration?) throws(S3Error) {
            if configuration == nil, !isEmpty { throw S3Error(.invalidRequest, "Bucket is missing Object Lock Configuration") }
        }

        /// Gives a new version, created at `created`, its lock settings in a bucket with `configuration`:
        /// the request's win, the bucket's default retention fills in, and nothing is inherited from a source.
        public func apply(to metadata: inout ObjectMetadata, bucket configuration: ObjectLockConfiguration?, created: Date) {
            metadata.retention = retention ?? configuration?.defaultRetention?.retention(from: created)
            metadata.legalHold = legalHold
        }
    }

    public static func request(from headers: HTTPFields, now: Date) throws(S3Error) -> Request {
        func header(_ name: HTTPField.Name) -> String? {
            headers[name].map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var request = Request()
        let modeText = header(.amzObjectLockMode)
        let dateText = header(.amzObjectLockRetainUntilDate)
        if modeText != nil || dateText != nil {
            guard let modeText, let dateText else {
                throw S3Error(.invalidArgument, "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
            }
            guard let mode = ObjectLockMode(rawValue: modeText) else {
                throw S3Error(.invalidArgument, "Unknown wormMode directive.",
                              details: [("ArgumentName", "x-amz-object-lock-mode"), ("ArgumentValue", modeText)])
            }
            guard let until = HTTPDate.parseISO8601(dateText) else {
                throw S3Error(.invalidArgument, "The retain until date must be provided in ISO 8601 format",
                              details: [("ArgumentName", "x-amz-object-lock-retain-until-date"), ("ArgumentValue", dateText)])
            }
            request.retention = ObjectRetention(mode: mode, retainUntil: try future(until, now: now))
        }
        if let hold = header(.amzObjectLockLegalHold) {
            switch hold {
            case "ON": request.legalHold = true
            case "OFF": request.legalHold = false
            default:
                throw S3Error(.invalidArgument, "Legal Hold must be either of 'ON' or 'OFF'",
                              details: [("ArgumentName", "x-amz-object-lock-legal-hold"), ("ArgumentValue", hold)])
            }
        }
        return request
    }

    /// `x-amz-bypass-governance-retention: true`.
    public static func bypassesGovernance(_ headers: HTTPFields) -> Bool {
        headers[.amzBypassGovernanceRetention]?.trimmingCharacters(in: .whitespaces).lowercased() == "true"
    }

    /// The headers GET and HEAD report for a version's lock settings.
    public static func addHeaders(for metadata: ObjectMetadata, to headers: inout HTTPFields) {
        if let retention = metadata.retention {
            headers[.amzObjectLockMode] = retention.mode.rawValue
            headers[.amzObjectLockRetainUntilDate] = HTTPDate.iso8601(retention.retainUntil)
        }
        if let hold = metadata.legalHold {
            headers[.amzObjectLockLegalHold] = hold ? "ON" : "OFF"
        }
    }

    private static func future(_ date: Date, now: Date) throws(S3Error) -> Date {
        guard date > now else { throw S3Error(.invalidArgument, "The retain until date must be in the future!") }
        return date
    }

    private static func period(_ element: XMLElement, _ name: String, limit: Int) throws(S3Error) -> Int? {
        guard let value = text(element, name) else { return nil }
        guard let number = Int(value) else { throw S3Error(.malformedXML) }
        guard number > 0 else {
            throw S3Error(.invalidArgument, "Default retention period must be a positive integer value.", details: [("ArgumentName", name)])
        }
        guard number <= limit else { throw S3Error(.invalidRetentionPeriod) }
        return number
    }

    private static func text(_ element: XMLElement, _ name: String) -> String? {
        element.child(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}

extension HTTPField.Name {
    public static let amzObjectLockMode = HTTPField.Name("x-amz-object-lock-mode")!
    public static let amzObjectLockRetainUntilDate = HTTPField.Name("x-amz-object-lock-retain-until-date")!
    public static let amzObjectLockLegalHold = HTTPField.Name("x-amz-object-lock-legal-hold")!
    public static let amzBypassGovernanceRetention = HTTPField.Name("x-amz-bypass-governance-retention")!
}
