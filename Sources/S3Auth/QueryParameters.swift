/// One `name[=value]` item of a raw query string, kept as on the wire.
struct QueryItem: Sendable {
    let rawName: Substring
    /// Nil when the item had no '=' (e.g. "?acl").
    let rawValue: Substring?

    /// The percent-decoded name ('+' read as a space, as browsers and SDKs form-encode).
    var name: String { PercentEncoding.decodedString(rawName, plusAsSpace: true) }
    /// The percent-decoded value, "" when absent.
    var value: String { PercentEncoding.decodedString(rawValue ?? "", plusAsSpace: true) }
}

/// A raw query split into items, in wire order.
struct QueryParameters: Sendable {
    let items: [QueryItem]

    init(rawQuery: String) {
        items = rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return QueryItem(rawName: pair[..<equals], rawValue: pair[pair.index(after: equals)...])
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
