/// A JSON value as a policy document holds it, decoded strictly (a number is never a Bool, nor a Bool a number).
/// Public only to the fuzz targets (`@_spi(Fuzzing) import S3Auth`); the policy types are its users.
@_spi(Fuzzing) public enum JSONValue: Equatable, Sendable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// Why a document is refused: not JSON, or containers nested deeper than the caller's grammar allows.
    public enum ParseError: Error, Equatable, Sendable {
        case invalid
        case tooDeep
    }

    /// Parses one UTF-8 JSON document (RFC 8259) in a single pass over its bytes, in time linear in its size.
    /// A container nested deeper than `maxDepth` (the document's own object or array is depth 1) is refused as soon
    /// as the reader reaches it, so a document of brackets costs no more than its first `maxDepth` of them. Of
    /// duplicate keys the first is kept, as Foundation's JSONDecoder (which this replaces) kept it.
    public static func parse(_ bytes: [UInt8], maxDepth: Int) throws(ParseError) -> JSONValue {
        var reader = JSONReader(bytes: bytes, maxDepth: maxDepth)
        return try reader.document()
    }

    /// A scalar as condition values are compared: strings as they are, numbers without a needless ".0".
    var scalarText: String? {
        switch self {
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number):
            number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        default: nil
        }
    }
}
