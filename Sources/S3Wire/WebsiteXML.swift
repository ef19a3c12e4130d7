import Foundation
import ObjectStore

/// The WebsiteConfiguration document, with AWS's validation.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketWebsite.html
public enum WebsiteXML {
    public static let maxRoutingRules = 50
    public static let maxDocumentBytes = 64 << 10

    public static func parse(_ document: [UInt8]) throws(S3Error) -> WebsiteConfiguration {
        guard document.count <= maxDocumentBytes else { throw S3Error(.malformedXML) }
        let root = try XMLReader.parse(document, limits: XMLLimits(maxElements: maxRoutingRules * 12 + 16))
        guard root.name == "WebsiteConfiguration" else { throw S3Error(.malformedXML) }
        func text(_ element: XMLElement?, _ name: String) -> String? {
            element?.child(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        var configuration = WebsiteConfiguration()
        if let redirectAll = root.child("RedirectAllRequestsTo") {
            guard let host = text(redirectAll, "HostName"), !host.isEmpty else {
                throw S3Error(.invalidArgument, "RedirectAllRequestsTo must specify a HostName.")
            }
            let scheme = try checkedProtocol(text(redirectAll, "Protocol"))
            guard root.child("IndexDocument") == nil, root.child("ErrorDocument") == nil, root.child("RoutingRules") == nil else {
                throw S3Error(.invalidArgument, "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.")
            }
            configuration.redirectAll = .init(hostName: host, protocol: scheme)
            return configuration
        }
        guard let index = root.child("IndexDocument") else {
            throw S3Error(.invalidArgument, "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty")
        }
        guard let suffix = text(index, "Suffix"), !suffix.isEmpty, !suffix.contains("/") else {
            throw S3Error(.invalidArgument, "The IndexDocument Suffix is not well formed")
        }
        configuration.indexSuffix = suffix
        if let error = root.child("ErrorDocument") {
            guard let key = text(error, "Key"), !key.isEmpty else { throw S3Error(.invalidArgument, "The ErrorDocument Key is not well formed") }
            configuration.errorKey = key
        }
        let rules = root.child("RoutingRules")?.children("RoutingRule") ?? []
        guard rules.count <= maxRoutingRules else {
            throw S3Error(.invalidArgument, "The number of routing rules must not exceed the allowed limit of \(maxRoutingRules) rules")
        }
        for rule in rules {
            guard let redirect = rule.child("Redirect") else { throw S3Error(.malformedXML) }
            let condition = rule.child("Condition")
            let prefix = text(condition, "KeyPrefixEquals")
            let code = text(condition, "HttpErrorCodeReturnedEquals")
            if condition != nil, prefix == nil, code == nil {
                throw S3Error(.invalidArgument, "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.")
            }
            if let code, !(400...599).contains(Int(code) ?? 0) {
                throw S3Error(.invalidArgument, "The provided HTTP error code (\(code)) is not valid. Valid codes are 4XX or 5XX.")
            }
            let replaceWith = text(redirect, "ReplaceKeyWith")
            let replacePrefix = text(redirect, "ReplaceKeyPrefixWith")
            if replaceWith != nil, replacePrefix != nil {
                throw S3Error(.invalidRequest, "You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
            }
            let redirectCode = text(redirect, "HttpRedirectCode")
            if let redirectCode, !(300...399).contains(Int(redirectCode) ?? 0) || redirectCode == "300" || redirectCode == "304" {
                throw S3Error(.invalidArgument, "The provided HTTP redirect code (\(redirectCode)) is not valid. Valid codes are 3XX except 300.")
            }
            configuration.routingRules.append(.init(
                keyPrefixEquals: prefix, httpErrorCodeReturnedEquals: code,
                redirect: .init(
                    hostName: text(redirect, "HostName"), httpRedirectCode: redirectCode,
                    protocol: try checkedProtocol(text(redirect, "Protocol")),
                    replaceKeyPrefixWith: replacePrefix, replaceKeyWith: replaceWith)))
        }
        return configuration
    }

    private static func checkedProtocol(_ value: String?) throws(S3Error) -> String? {
        guard let value else { return nil }
        guard value == "http" || value == "https" else {
            throw S3Error(.invalidArgument, "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.")
        }
        return value
    }

    public static func write(_ configuration: WebsiteConfiguration) -> XMLWriter {
        var xml = XMLWriter()
        xml.element("WebsiteConfiguration", namespace: XMLWriter.s3Namespace) { x in
            if let all = configuration.redirectAll {
                x.element("RedirectAllRequestsTo") { r in
                    r.element("HostName", all.hostName)
                    r.optionalElement("Protocol", all.protocol)
                }
                return
            }
            if let suffix = configuration.indexSuffix { x.element("IndexDocument") { $0.element("Suffix", suffix) } }
            if let key = configuration.errorKey { x.element("ErrorDocument") { $0.element("Key", key) } }
            guard !configuration.routingRules.isEmpty else { return }
            x.element("RoutingRules") { rules in
                for rule in configuration.routingRules {
                    rules.element("RoutingRule") { r in
                        if rule.keyPrefixEquals != nil || rule.httpErrorCodeReturnedEquals != nil {
                            r.element("Condition") { c in
                                c.optionalElement("HttpErrorCodeReturnedEquals", rule.httpErrorCodeReturnedEquals)
                                c.optionalElement("KeyPrefixEquals", rule.keyPrefixEquals)
                            }
                        }
                        r.element("Redirect") { d in
                            d.optionalElement("HostName", rule.redirect.hostName)
                            d.optionalElement("HttpRedirectCode", rule.redirect.httpRedirectCode)
                            d.optionalElement("Protocol", rule.redirect.protocol)
                            d.optionalElement("ReplaceKeyPrefixWith", rule.redirect.replaceKeyPrefixWith)
                            d.optionalElement("ReplaceKeyWith", rule.redirect.replaceKeyWith)
                        }
                    }
                }
            }
        }
        return xml
    }
}
