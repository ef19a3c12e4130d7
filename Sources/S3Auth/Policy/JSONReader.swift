/// The byte-level reader behind ``JSONValue/parse(_:maxDepth:)``: one index moving forward over the bytes, recursion
/// only into containers and never past `maxDepth`, strings sliced or built once.
struct JSONReader {
    typealias ParseError = JSONValue.ParseError

    let bytes: [UInt8]
    let maxDepth: Int
    var index = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func document() throws(ParseError) -> JSONValue {
        // A UTF-8 byte order mark, which JSONDecoder skipped too.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        let value = try value(depth: 0)
        skipSpace()
        guard index == bytes.count else { throw .invalid }
        return value
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    /// `depth` counts the containers around the value.
    private mutating func value(depth: Int) throws(ParseError) -> JSONValue {
        skipSpace()
        switch current {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case .some: return .number(try number())
        case nil: throw .invalid
        }
    }

    private mutating func object(depth: Int) throws(ParseError) -> JSONValue {
        guard depth <= maxDepth else { throw .tooDeep }
        index += 1
        var members: [String: JSONValue] = [:]
        skipSpace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard current == UInt8(ascii: "\"") else { throw .invalid }
            let key = try string()
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw .invalid }
            index += 1
            let member = try value(depth: depth)
            if members[key] == nil { members[key] = member }
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw .invalid
            }
        }
    }

    private mutating func array(depth: Int) throws(ParseError) -> JSONValue {
        guard depth <= maxDepth else { throw .tooDeep }
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            items.append(try value(depth: depth))
            skipSpace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw .invalid
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(ParseError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw .invalid }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw .invalid }
        index += count
    }

    /// A string from its opening quote: the bytes between the quotes as they are when there is no escape, else
    /// built once; either way valid UTF-8 or refused.
    private mutating func string() throws(ParseError) -> String {
        index += 1
        let start = index
        var decoded: [UInt8]?
        while true {
            guard let byte = current else { throw .invalid }
            switch byte {
            case UInt8(ascii: "\""):
                let text = decoded.map { String(validating: $0, as: UTF8.self) }
                    ?? String(validating: bytes[start..<index], as: UTF8.self)
                index += 1
                guard let text else { throw .invalid }
                return text
            case UInt8(ascii: "\\"):
                if decoded == nil { decoded = Array(bytes[start..<index]) }
                index += 1
                try unescape(into: &decoded)
            case 0..<0x20:
                throw .invalid
            default:
                decoded?.append(byte)
                index += 1
            }
        }
    }

    /// One escape after its backslash, appended to `decoded` as UTF-8.
    private mutating func unescape(into decoded: inout [UInt8]?) throws(ParseError) {
        guard let byte = current else { throw .invalid }
        index += 1
        let simple: UInt8? = switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
        if let simple {
            decoded?.append(simple)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw .invalid }
        var scalarValue = UInt32(try hexUnit())
        if (0xD800...0xDBFF).contains(scalarValue) {
            // A high surrogate must be followed by an escaped low one.
            guard current == UInt8(ascii: "\\") else { throw .invalid }
            index += 1
            guard current == UInt8(ascii: "u") else { throw .invalid }
            index += 1
            let low = UInt32(try hexUnit())
            guard (0xDC00...0xDFFF).contains(low) else { throw .invalid }
            scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw .invalid }
        UTF8.encode(scalar) { decoded?.append($0) }
    }

    private mutating func hexUnit() throws(ParseError) -> UInt16 {
        guard bytes.count - index >= 4 else { throw .invalid }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8 = switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: throw .invalid
            }
            unit = unit << 4 | UInt16(digit)
            index += 1
        }
        return unit
    }

    /// RFC 8259's number grammar, then Double's own parse of the same bytes; a value beyond Double's range is
    /// refused as JSONDecoder refused it.
    private mutating func number() throws(ParseError) -> Double {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { throw .invalid }
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw .invalid }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw .invalid }
        }
        guard let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)), number.isFinite else {
            throw .invalid
        }
        return number
    }

    private mutating func digits() -> Int {
        let start = index
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }
}
