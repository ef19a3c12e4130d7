/// One `name[=value]` item of a raw query string, kept as on the wire.
struct QueryItem: Sendable {
    let rawName: Substring
    /// Nil when the item had no '=' (e.g. "?acl").
    let rawValue: Substring?
    /// The percent-decoded name ('+' read as a space, as browsers and SDKs form-encode), decoded once: every
    /// lookup compares names.
    let name: String

    init(rawName: Substring, rawValue: Substring?) {
        self.rawName = rawName
        self.rawValue = rawValue
        self.name = PercentEncoding.decodedString(rawName, plusAsSpace: true)
    }

    /// The percent-decoded value, "" when absent.
    var value: String { PercentEncoding.decodedString(rawValue ?? "", plusAsSpace: true) }
}

/// A raw query split into items, in wire order.
struct QueryParameters: Sendable {
    let items: [QueryItem]

    init(rawQuery: String) {
        // Split on bytes: '&' and '=' are ASCII, and Character-wise splitting is far slower on the hot path.
        items = rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { bytes in
            let pair = Substring(bytes)
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                return QueryItem(rawName: pair[..<equals], rawValue: pair[pair.utf8.index(after: equals)...])
            }
            return QueryItem(rawName: pair, rawValue: nil)
        }
    }

    /// The decoded value of the first item whose decoded name is exactly `name`.
    func value(of name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    func contains(_ name: String) -> Bool {
        items.contains { $0.name == name }
    }
}
