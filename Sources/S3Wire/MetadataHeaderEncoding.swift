import Digest

/// User metadata values as S3 carries them in headers. A value with characters outside US-ASCII goes out as an
/// RFC 2047 encoded word (`=?UTF-8?B?...?=`), since header bytes are not reliably UTF-8 to every client; a value
/// sent as encoded words is decoded before it is stored. (AWS: "Working with object metadata".)
public enum MetadataHeaderEncoding {
    /// The header value for a stored metadata value.
    public static func headerValue(_ stored: String) -> String {
        guard stored.utf8.contains(where: { $0 >= 0x80 }) else { return stored }
        return "=?UTF-8?B?" + stored.utf8.base64String + "?="
    }

    /// The value to store for a header value: the decoded text if the value is one or more encoded words
    /// separated by white space, else the value as sent.
    public static func storedValue(_ header: String) -> String {
        guard header.hasPrefix("=?") else { return header }
        var decoded: [UInt8] = []
        for word in header.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let bytes = decodeWord(word) else { return header }
            decoded += bytes
        }
        return String(validating: decoded, as: UTF8.self) ?? header
    }

    /// One `=?charset?encoding?text?=` word as UTF-8 bytes; nil if it is not one, or names another charset.
    private static func decodeWord(_ word: Substring) -> [UInt8]? {
        guard word.hasPrefix("=?"), word.hasSuffix("?="), word.count >= 8 else { return nil }
        let fields = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard fields.count == 3 else { return nil }
        let raw: [UInt8]
        switch fields[1].uppercased() {
        case "B": guard let bytes = decodeBase64(String(fields[2])) else { return nil }; raw = bytes
        case "Q": guard let bytes = decodeQ(fields[2]) else { return nil }; raw = bytes
        default: return nil
        }
        switch fields[0].uppercased() {
        case "UTF-8", "US-ASCII": return raw
        case "ISO-8859-1":
            var latin1 = String.UnicodeScalarView()
            latin1.append(contentsOf: raw.map { Unicode.Scalar($0) })
            return Array(String(latin1).utf8)
        default: return nil
        }
    }

    /// RFC 2047's "Q" encoding: `_` is a space, `=XX` a byte in hex, anything else itself.
    private static func decodeQ(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "_"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "="):
                guard let high = bytes.next(), let low = bytes.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                out.append(value)
            default: out.append(byte)
            }
        }
        return out
    }
}
