/// A parsed XML element: enough of a DOM for S3's small request documents.
public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var text: String
    public var children: [XMLElement]

    public init(name: String, text: String = "", children: [XMLElement] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    public func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name }
    }

    public func children(_ name: String) -> [XMLElement] {
        children.filter { $0.name == name }
    }
}

/// How much of a document a parse accepts. Every S3 request document is shallow and has a known largest
/// valid form, so anything deeper or longer is refused while parsing, before it costs memory.
public struct XMLLimits: Sendable, Equatable {
    /// Open elements at once. S3's deepest document (a lifecycle rule's `Filter/And/Tag/Key`) has six levels.
    public var maxDepth: Int
    /// Elements in the whole document.
    public var maxElements: Int

    public init(maxDepth: Int = 32, maxElements: Int) {
        self.maxDepth = maxDepth
        self.maxElements = maxElements
    }

    /// Small settings documents: versioning, retention, legal hold, object lock, CreateBucketConfiguration.
    public static let small = XMLLimits(maxElements: 256)
    /// A TagSet (AWS allows 50 bucket tags; extra room so that too many tags get InvalidTag, not MalformedXML).
    public static let tagging = XMLLimits(maxElements: 1_024)
    /// DeleteObjects: 1,000 `Object`s of up to six children each.
    public static let deleteObjects = XMLLimits(maxElements: 1_000 * 7 + 2)
    /// CompleteMultipartUpload: 10,000 `Part`s of up to seven children each (ETag, PartNumber, five checksums).
    public static let completeMultipartUpload = XMLLimits(maxElements: 10_000 * 8 + 1)
    /// A lifecycle configuration: 1,000 rules, each a few dozen elements at most.
    public static let lifecycle = XMLLimits(maxElements: 1_000 * 40 + 1)
}

/// Parses request documents. Any malformed document, any DTD, and any document past its ``XMLLimits`` is
/// MalformedXML. It walks the bytes with an explicit stack (no recursion, so no nesting can exhaust the
/// thread's stack) and knows no entities but XML's five and character references, so nothing external is
/// ever resolved.
public enum XMLReader {
    public static func parse(_ data: [UInt8], limits: XMLLimits = .small) throws(S3Error) -> XMLElement {
        var scanner = XMLScanner(bytes: data, limits: limits)
        guard let root = scanner.document() else { throw S3Error(.malformedXML) }
        return root
    }
}

/// The byte-level parser behind ``XMLReader``: a subset of XML 1.0 that covers every S3 document
/// (declaration, comments, processing instructions, elements with attributes, text, CDATA, the predefined
/// entities and character references), refusing DOCTYPE outright.
struct XMLScanner {
    private let bytes: [UInt8]
    private let limits: XMLLimits
    private var index = 0
    private var elementCount = 0
    /// Open elements: their qualified names (to match end tags) and what has been built of each.
    private var open: [(qualifiedName: ArraySlice<UInt8>, element: XMLElement)] = []

    init(bytes: [UInt8], limits: XMLLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The root element, or nil when the bytes are not one well-formed document within the limits.
    mutating func document() -> XMLElement? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        guard skipMisc() else { return nil }
        guard peek(0x3C), !starts(with: "<!"), let root = element() else { return nil }
        guard skipMisc(), index == bytes.count else { return nil }
        return root
    }

    /// Whitespace, comments and processing instructions, as allowed before and after the root element.
    private mutating func skipMisc() -> Bool {
        while true {
            skipWhitespace()
            if starts(with: "<?") {
                guard skipPast("?>") else { return false }
            } else if starts(with: "<!--") {
                guard comment() else { return false }
            } else {
                return true
            }
        }
    }

    /// One element and everything inside it, iteratively.
    private mutating func element() -> XMLElement? {
        switch startTag() {
        case nil: return nil
        case .empty(let root): return root
        case .opened: break
        }
        while !open.isEmpty {
            if starts(with: "</") {
                guard let finished = endTag() else { return nil }
                if open.isEmpty { return finished }
                open[open.count - 1].element.children.append(finished)
            } else if starts(with: "<!--") {
                guard comment() else { return nil }
            } else if starts(with: "<![CDATA[") {
                guard cdata() else { return nil }
            } else if starts(with: "<?") {
                guard skipPast("?>") else { return nil }
            } else if starts(with: "<!") {
                return nil  // DOCTYPE and other declarations never belong in a request document.
            } else if peek(0x3C) {
                switch startTag() {
                case nil: return nil
                case .empty(let child): open[open.count - 1].element.children.append(child)
                case .opened: break
                }
            } else if index < bytes.count {
                guard characterData() else { return nil }
            } else {
                return nil
            }
        }
        return nil
    }

    private enum StartTag {
        /// `<name ...>`: pushed onto the open elements.
        case opened
        /// `<name .../>`: complete already.
        case empty(XMLElement)
    }

    /// `<name attr="v" ...>` or `<name .../>`; nil when malformed or past the limits.
    private mutating func startTag() -> StartTag? {
        index += 1
        guard let qualifiedName = name() else { return nil }
        elementCount += 1
        guard open.count < limits.maxDepth, elementCount <= limits.maxElements else { return nil }
        guard let localName = Self.localName(qualifiedName) else { return nil }
        while true {
            let separated = skipWhitespace()
            guard index < bytes.count else { return nil }
            if bytes[index] == 0x3E {  // >
                index += 1
                open.append((qualifiedName, XMLElement(name: localName)))
                return .opened
            }
            if starts(with: "/>") {
                index += 2
                return .empty(XMLElement(name: localName))
            }
            guard separated, attribute() else { return nil }
        }
    }

    /// `</name>`: must close the innermost open element. Returns the finished element.
    private mutating func endTag() -> XMLElement? {
        index += 2
        guard let qualifiedName = name(), let innermost = open.last, innermost.qualifiedName.elementsEqual(qualifiedName) else {
            return nil
        }
        skipWhitespace()
        guard peek(0x3E) else { return nil }
        index += 1
        return open.removeLast().element
    }

    /// `name="value"` or `name='value'`. Attributes are checked for form and otherwise ignored: S3 documents
    /// carry none but namespace declarations.
    private mutating func attribute() -> Bool {
        guard name() != nil else { return false }
        skipWhitespace()
        guard peek(0x3D) else { return false }  // =
        index += 1
        skipWhitespace()
        guard index < bytes.count, bytes[index] == 0x22 || bytes[index] == 0x27 else { return false }
        let quote = bytes[index]
        index += 1
        while index < bytes.count, bytes[index] != quote {
            switch bytes[index] {
            case 0x3C: return false  // <
            case 0x26: guard reference() != nil else { return false }
            default: index += 1
            }
        }
        guard index < bytes.count else { return false }
        index += 1
        return true
    }

    /// Text up to the next markup, with references resolved and line ends normalized, appended to the
    /// innermost open element.
    private mutating func characterData() -> Bool {
        var text: [UInt8] = []
        while index < bytes.count, bytes[index] != 0x3C {
            switch bytes[index] {
            case 0x26:  // &
                guard let scalar = reference() else { return false }
                text.append(contentsOf: Array(String(scalar).utf8))
            case 0x0D:  // CR and CRLF both become LF, as XML requires.
                text.append(0x0A)
                index += 1
                if peek(0x0A) { index += 1 }
            default:
                text.append(bytes[index])
                index += 1
            }
        }
        return appendText(text[...])
    }

    private mutating func cdata() -> Bool {
        index += 9
        let start = index
        guard let end = find("]]>") else { return false }
        index = end + 3
        return appendText(bytes[start..<end])
    }

    private mutating func appendText(_ text: ArraySlice<UInt8>) -> Bool {
        guard let string = String(validating: text, as: UTF8.self), !open.isEmpty else { return false }
        open[open.count - 1].element.text += string
        return true
    }

    private mutating func comment() -> Bool {
        index += 4
        guard let end = find("--") else { return false }
        index = end + 2
        guard peek(0x3E) else { return false }  // "--" may only end a comment.
        index += 1
        return true
    }

    /// `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;`, `&#N;` or `&#xH;`; any other entity is refused.
    private mutating func reference() -> Unicode.Scalar? {
        index += 1
        guard let semicolon = bytes[index...].prefix(12).firstIndex(of: 0x3B) else { return nil }
        let body = bytes[index..<semicolon]
        index = semicolon + 1
        switch String(decoding: body, as: UTF8.self) {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        case let reference where reference.hasPrefix("#x"):
            return Self.character(UInt32(reference.dropFirst(2), radix: 16))
        case let reference where reference.hasPrefix("#"):
            return Self.character(UInt32(reference.dropFirst(), radix: 10))
        default: return nil
        }
    }

    /// A character reference's scalar, if XML allows that character.
    private static func character(_ value: UInt32?) -> Unicode.Scalar? {
        guard let value, let scalar = Unicode.Scalar(value) else { return nil }
        guard value >= 0x20 || value == 0x09 || value == 0x0A || value == 0x0D else { return nil }
        return value == 0xFFFE || value == 0xFFFF ? nil : scalar
    }

    /// An XML name: a letter, `_`, `:` or any non-ASCII byte, then also digits, `-` and `.`.
    private mutating func name() -> ArraySlice<UInt8>? {
        let start = index
        while index < bytes.count, Self.isNameByte(bytes[index], first: index == start) { index += 1 }
        return index > start ? bytes[start..<index] : nil
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: ":"), 0x80...:
            true
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."):
            !first
        default:
            false
        }
    }

    /// The name without its namespace prefix, as a namespace-aware parser reports it.
    private static func localName(_ qualified: ArraySlice<UInt8>) -> String? {
        let local = qualified.lastIndex(of: UInt8(ascii: ":")).map { qualified[($0 + 1)...] } ?? qualified
        guard !local.isEmpty else { return nil }
        return String(validating: local, as: UTF8.self)
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index > start
    }

    private func peek(_ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }

    private func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        return literal.withUTF8Buffer { bytes[index..<(index + count)].elementsEqual($0) }
    }

    /// The index where `literal` next occurs at or after the current position.
    private func find(_ literal: StaticString) -> Int? {
        literal.withUTF8Buffer { needle -> Int? in
            guard bytes.count >= needle.count else { return nil }
            var at = index
            while at <= bytes.count - needle.count {
                if bytes[at] == needle[0], bytes[at..<(at + needle.count)].elementsEqual(needle) { return at }
                at += 1
            }
            return nil
        }
    }

    private mutating func skipPast(_ literal: StaticString) -> Bool {
        guard let end = find(literal) else { return false }
        index = end + literal.utf8CodeUnitCount
        return true
    }
}
