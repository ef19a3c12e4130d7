import NIOCore

/// Reads a `multipart/form-data` body as it arrives, with bounded memory: form fields are collected (each
/// limited, like all of them together), and the part named `file` is handed on in pieces as it streams, holding
/// back only as many bytes as a boundary could span. A POST Object form ends at its file: what follows it is
/// ignored, as AWS ignores it.
public struct MultipartFormReader {
    public enum Event: Equatable {
        /// A form field before the file, its name as sent.
        case field(name: String, value: String)
        /// The file part begins; `filename` is what the browser named it (for `${filename}`).
        case fileStart(filename: String?, contentType: String?)
        /// The next bytes of the file.
        case fileData(ByteBuffer)
        /// The file part ended; nothing more is read.
        case fileEnd
    }

    /// How much a form may hold before its file: AWS refuses more than 20 KB of fields.
    public struct Limits: Sendable {
        public var fieldBytes: Int
        public var partHeaderBytes: Int

        public init(fieldBytes: Int = 20 * 1024, partHeaderBytes: Int = 8 * 1024) {
            self.fieldBytes = fieldBytes
            self.partHeaderBytes = partHeaderBytes
        }
    }

    private enum State {
        case preamble
        case afterDelimiter
        case partHeaders
        case field(name: String)
        case file
        case finished
    }

    private let openingDelimiter: [UInt8]
    /// CRLF "--" boundary: what ends every part's content.
    private let delimiter: [UInt8]
    private let limits: Limits
    private var state = State.preamble
    private var pending = ByteBuffer()
    private var inputEnded = false
    private var fieldBytes = 0
    /// File bytes set aside by ``append(_:)``, handed on before anything in `pending`.
    private var carried: ByteBuffer?

    public init(boundary: String, limits: Limits = Limits()) {
        openingDelimiter = Array("--\(boundary)".utf8)
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.limits = limits
    }

    /// The boundary named by a `multipart/form-data` Content-Type, or nil for any other type.
    public static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let type = parts.first, type.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            guard let equals = parameter.firstIndex(of: "="),
                  parameter[..<equals].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = parameter[parameter.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            // RFC 2046 allows 1 to 70 characters.
            guard (1...70).contains(value.utf8.count) else { return nil }
            return value
        }
        return nil
    }

    public mutating func append(_ chunk: ByteBuffer) {
        if case .file = state, carried == nil, pending.readableBytes < delimiter.count {
            // What is left of the file is shorter than a delimiter, so it holds none. Only the part of it that could
            // begin a delimiter must meet the new chunk; the rest is file data, handed on first, so that the chunk itself
            // is not copied (its tail hardly ever ends in a CR).
            let keep = partialDelimiterLength()
            if keep < pending.readableBytes { carried = pending.readSlice(length: pending.readableBytes - keep) }
        }
        if pending.readableBytes == 0 {
            pending = chunk
            return
        }
        // A fresh buffer of what is left and the chunk: appending to `pending` itself would keep every byte
        // already handed out, so a file would accumulate in memory.
        var combined = ByteBufferAllocator().buffer(capacity: pending.readableBytes + chunk.readableBytes)
        var chunk = chunk
        combined.writeBuffer(&pending)
        combined.writeBuffer(&chunk)
        pending = combined
    }

    /// True once the file has ended: nothing after it is read.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Says the body has no more bytes: a form that has not reached its file by then is malformed.
    public mutating func endInput() {
        inputEnded = true
    }

    /// The next event, or nil when more input is needed (or, once the file has ended, never again).
    public mutating func next() throws(S3Error) -> Event? {
        while true {
            switch state {
            case .finished:
                return nil
            case .preamble:
                guard let start = find(openingDelimiter, from: 0) else {
                    if pending.readableBytes > limits.partHeaderBytes { throw Self.malformed }
                    return try needMore()
                }
                pending.moveReaderIndex(forwardBy: start + openingDelimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                guard pending.readableBytes >= 2 else { return try needMore() }
                let first = pending.readableBytesView.first!
                let second = pending.readableBytesView.dropFirst().first!
                if first == UInt8(ascii: "-"), second == UInt8(ascii: "-") {
                    // The closing delimiter before any file.
                    throw S3Error(.incorrectNumberOfFilesInPostRequest)
                }
                guard first == UInt8(ascii: "\r"), second == UInt8(ascii: "\n") else { throw Self.malformed }
                pending.moveReaderIndex(forwardBy: 2)
                state = .partHeaders
            case .partHeaders:
                let end: Int
                let skip: Int
                if pending.readableBytesView.starts(with: [13, 10]) {
                    (end, skip) = (0, 2)
                } else if let found = find([13, 10, 13, 10], from: 0) {
                    (end, skip) = (found, 4)
                } else {
                    if pending.readableBytes > limits.partHeaderBytes { throw Self.malformed }
                    return try needMore()
                }
                guard end <= limits.partHeaderBytes else { throw Self.malformed }
                let text = pending.readString(length: end) ?? ""
                pending.moveReaderIndex(forwardBy: skip)
                let headers = try Self.partHeaders(text)
                if headers.name.lowercased() == "file" {
                    state = .file
                    return .fileStart(filename: headers.filename, contentType: headers.contentType)
                }
                state = .field(name: headers.name)
            case .field(let name):
                guard let end = find(delimiter, from: 0) else {
                    if fieldBytes + pending.readableBytes > limits.fieldBytes + delimiter.count {
                        throw S3Error(.maxPostPreDataLengthExceededError)
                    }
                    return try needMore()
                }
                fieldBytes += end + name.utf8.count
                guard fieldBytes <= limits.fieldBytes else { throw S3Error(.maxPostPreDataLengthExceededError) }
                let value = pending.readString(length: end) ?? ""
                pending.moveReaderIndex(forwardBy: delimiter.count)
                state = .afterDelimiter
                return .field(name: name, value: value)
            case .file:
                if let carried {
                    self.carried = nil
                    return .fileData(carried)
                }
                if let end = find(delimiter, from: 0) {
                    if end > 0 { return .fileData(pending.readSlice(length: end)!) }
                    pending.moveReaderIndex(forwardBy: delimiter.count)
                    pending = ByteBuffer()
                    state = .finished
                    return .fileEnd
                }
                // Everything but what could be the start of a delimiter split across chunks is file data.
                let safe = pending.readableBytes - (delimiter.count - 1)
                guard safe > 0 else { return try needMore() }
                return .fileData(pending.readSlice(length: safe)!)
            }
        }
    }

    /// The length of the longest end of `pending` that is a beginning of the delimiter.
    private func partialDelimiterLength() -> Int {
        pending.withUnsafeReadableBytes { bytes in
            for length in stride(from: min(bytes.count, delimiter.count - 1), to: 0, by: -1)
            where bytes.suffix(length).elementsEqual(delimiter.prefix(length)) {
                return length
            }
            return 0
        }
    }

    private func needMore() throws(S3Error) -> Event? {
        if inputEnded { throw Self.malformed }
        return nil
    }

    static let malformed = S3Error(.malformedPOSTRequest)

    /// The offset of `needle` in the pending bytes at or after `start`, found with memchr on its first byte.
    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        pending.withUnsafeReadableBytes { haystack -> Int? in
            guard let base = haystack.baseAddress, haystack.count >= needle.count else { return nil }
            let first = Int32(needle[0])
            var offset = start
            let last = haystack.count - needle.count
            while offset <= last {
                guard let hit = memchr(base + offset, first, last - offset + 1) else { return nil }
                let position = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + position, needle, needle.count) == 0 { return position }
                offset = position + 1
            }
            return nil
        }
    }

    struct PartHeaders {
        var name: String
        var filename: String?
        var contentType: String?
    }

    /// The part's name and filename from Content-Disposition, and its Content-Type.
    static func partHeaders(_ text: String) throws(S3Error) -> PartHeaders {
        var name: String?
        var filename: String?
        var contentType: String?
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw malformed }
            let header = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch header {
            case "content-disposition":
                let parameters = dispositionParameters(value)
                guard parameters.type == "form-data", let partName = parameters.values["name"] else { throw malformed }
                name = partName
                filename = parameters.values["filename"]
            case "content-type":
                contentType = value
            default:
                continue
            }
        }
        guard let name else { throw malformed }
        return PartHeaders(name: name, filename: filename, contentType: contentType)
    }

    /// `form-data; name="key"; filename="a;b.txt"`: parameters with quoted values, which may hold `;` and `\"`.
    static func dispositionParameters(_ value: String) -> (type: String, values: [String: String]) {
        var values: [String: String] = [:]
        let bytes = Array(value.utf8)
        var index = 0
        func skipSpaces() { while index < bytes.count, bytes[index] == 32 || bytes[index] == 9 { index += 1 } }
        func token(until stops: Set<UInt8>) -> String {
            let start = index
            while index < bytes.count, !stops.contains(bytes[index]) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        let type = token(until: [59]).lowercased()
        while index < bytes.count {
            index += 1  // the ';'
            skipSpaces()
            let name = token(until: [61, 59]).lowercased()
            guard index < bytes.count, bytes[index] == 61 else { continue }
            index += 1
            skipSpaces()
            var parameter: [UInt8] = []
            if index < bytes.count, bytes[index] == 34 {
                index += 1
                while index < bytes.count, bytes[index] != 34 {
                    if bytes[index] == 92, index + 1 < bytes.count { index += 1 }
                    parameter.append(bytes[index])
                    index += 1
                }
                index += 1
                while index < bytes.count, bytes[index] != 59 { index += 1 }
            } else {
                parameter = Array(token(until: [59]).utf8)
            }
            if !name.isEmpty { values[name] = String(decoding: parameter, as: UTF8.self) }
        }
        return (type, values)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
