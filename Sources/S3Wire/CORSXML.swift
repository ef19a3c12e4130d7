import Foundation
import ObjectStore

/// The CORSConfiguration document, with AWS's validation.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html
public enum CORSXML {
    public static let maxRules = 100
    public static let maxDocumentBytes = 64 << 10
    static let methods: Set<String> = ["GET", "PUT", "POST", "DELETE", "HEAD"]

    public static func parse(_ document: [UInt8]) throws(S3Error) -> [CORSRule] {
        guard document.count <= maxDocumentBytes else {
            throw S3Error(.malformedXML, "The CORS configuration must be at most 64 KB.")
        }
        let root = try XMLReader.parse(document, limits: XMLLimits(maxElements: maxRules * 64 + 2))
        let rules = root.children("CORSRule")
        guard root.name == "CORSConfiguration", !rules.isEmpty else { throw S3Error(.malformedXML) }
        guard rules.count <= maxRules else {
            throw S3Error(.malformedXML, "The CORS configuration may hold at most \(maxRules) rules.")
        }
        var parsed: [CORSRule] = []
        for rule in rules {
            let text = { (name: String) in rule.children(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) } }
            let origins = text("AllowedOrigin")
            let methods = text("AllowedMethod")
            let headers = text("AllowedHeader")
            guard !origins.isEmpty, !methods.isEmpty else { throw S3Error(.malformedXML) }
            for method in methods where !Self.methods.contains(method) {
                throw S3Error(.invalidRequest, "Found unsupported HTTP method in CORS config. Unsupported method is \(method)")
            }
            for origin in origins where origin.filter({ $0 == "*" }).count > 1 {
                throw S3Error(.invalidRequest, "AllowedOrigin \"\(origin)\" can not have more than one wildcard.")
            }
            for header in headers where header.filter({ $0 == "*" }).count > 1 {
                throw S3Error(.invalidRequest, "AllowedHeader \"\(header)\" can not have more than one wildcard.")
            }
            var maxAge: Int?
            if let value = text("MaxAgeSeconds").first {
                // Echoed in Access-Control-Max-Age; AWS's model types it a 32-bit Integer.
                guard let seconds = RequestNumber.integer(value) else { throw S3Error(.malformedXML) }
                maxAge = seconds
            }
            let id = text("ID").first
            if let id, id.count > 255 { throw S3Error(.invalidArgument, "The ID of a CORS rule is at most 255 characters.") }
            parsed.append(CORSRule(
                id: id, allowedOrigins: origins, allowedMethods: methods, allowedHeaders: headers,
                exposeHeaders: text("ExposeHeader"), maxAgeSeconds: maxAge))
        }
        return parsed
    }

    public static func write(_ rules: [CORSRule]) -> XMLWriter {
        var xml = XMLWriter()
        xml.element("CORSConfiguration", namespace: XMLWriter.s3Namespace) { x in
            for rule in rules {
                x.element("CORSRule") { r in
                    r.optionalElement("ID", rule.id)
                    for header in rule.allowedHeaders { r.element("AllowedHeader", header) }
                    for method in rule.allowedMethods { r.element("AllowedMethod", method) }
                    for origin in rule.allowedOrigins { r.element("AllowedOrigin", origin) }
                    for header in rule.exposeHeaders { r.element("ExposeHeader", header) }
                    if let maxAge = rule.maxAgeSeconds { r.element("MaxAgeSeconds", maxAge) }
                }
            }
        }
        return xml
    }
}
