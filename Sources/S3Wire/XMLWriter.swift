/// Builds S3's XML responses. Text is escaped; element names are the caller's constants.
public struct XMLWriter: Sendable {
    public static let s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
    public private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    public init() {}

    /// Writes `<name xmlns=...>` children `</name>`.
    public mutating func element(_ name: String, namespace: String? = nil, _ children: (inout XMLWriter) -> Void) {
        if let namespace {
            text += "<\(name) xmlns=\"\(namespace)\">"
        } else {
            text += "<\(name)>"
        }
        children(&self)
        text += "</\(name)>"
    }

    /// Writes `<name attr="value" ...>` children `</name>`; attribute values are escaped.
    public mutating func element(_ name: String, attributes: [(String, String)], _ children: (inout XMLWriter) -> Void) {
        text += "<\(name)"
        for (attribute, value) in attributes { text += " \(attribute)=\"\(XMLWriter.escape(value))\"" }
        text += ">"
        children(&self)
        text += "</\(name)>"
    }

    public mutating func element(_ name: String, _ value: String) {
        text += "<\(name)>"
        text += XMLWriter.escape(value)
        text += "</\(name)>"
    }

    /// Writes escaped text inside the current element.
    public mutating func characters(_ value: String) {
        text += XMLWriter.escape(value)
    }

    public mutating func element(_ name: String, _ value: Int) {
        element(name, String(value))
    }

    public mutating func element(_ name: String, _ value: Int64) {
        element(name, String(value))
    }

    public mutating func element(_ name: String, _ value: Bool) {
        element(name, value ? "true" : "false")
    }

    /// Writes the element only when there is a value.
    public mutating func optionalElement(_ name: String, _ value: String?) {
        if let value { element(name, value) }
    }

    /// Escapes text for element content and attribute values. Characters XML 1.0 cannot carry even as
    /// references (most C0 controls) still need to reach clients that put them in keys, so they become
    /// numeric references as AWS writes them.
    public static func escape(_ value: String) -> String {
        var needsWork = false
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&", "<", ">", "\"", "'": needsWork = true
            default: if scalar.value < 0x20 { needsWork = true }
            }
            if needsWork { break }
        }
        guard needsWork else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 16)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if scalar.value < 0x20 {
                    out += "&#x\(String(scalar.value, radix: 16, uppercase: true));"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
