/// Percent-decoding as S3 reads request paths and query strings.
public enum Percent {
    /// Decodes `%XX` escapes (and, for query components, `+` as a space). Nil if an escape is malformed or the
    /// bytes are not UTF-8.
    public static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    public static func decode(_ text: String, plusIsSpace: Bool) -> String? {
        decode(text[...], plusIsSpace: plusIsSpace)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Encodes everything but RFC 3986 unreserved characters (and `/` when `keepSlash`), as S3's
    /// `encoding-type=url` and SigV4 do.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out += "/"
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += byte < 16 ? "%0\(hex)" : "%\(hex)"
            }
        }
        return out
    }
}

/// The query string of a request, decoded, in order. Names without `=` have an empty value.
public struct QueryParameters: Sendable {
    public private(set) var items: [(name: String, value: String)] = []

    public init(rawQuery: String) throws(S3Error) {
        guard !rawQuery.isEmpty else { return }
        // Split on bytes: '&' and '=' are ASCII, and Character-wise splitting is far slower on the hot path.
        for bytes in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let component = Substring(bytes)
            let equals = bytes.firstIndex(of: UInt8(ascii: "="))
            let rawName = equals.map { component[..<$0] } ?? component
            guard let name = Percent.decode(rawName, plusIsSpace: true),
                  let value = equals.map({ Percent.decode(component[component.utf8.index(after: $0)...], plusIsSpace: true) }) ?? ""
            else { throw S3Error(.invalidArgument, "Couldn't parse the specified URI.") }
            items.append((name, value))
        }
    }

    /// The first value of `name`, or nil if absent.
    public subscript(_ name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    public func has(_ name: String) -> Bool {
        items.contains { $0.name == name }
    }
}
