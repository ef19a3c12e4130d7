/// The integers a request carries in its headers and query string, each parsed with its bounds checked before
/// any arithmetic uses it: a value out of range (a 20-digit count, a negative length, `Int64.min`) is the
/// operation's S3 error, never an overflow trap.
public enum RequestNumber {
    /// The part numbers S3 allows: 1 to 10,000.
    public static let partNumbers = 1...10_000

    /// A max-keys style count (`max-keys`, `max-parts`, `max-uploads`, `x-amz-max-parts`): a non-negative 32-bit
    /// integer, capped at `limit`; `limit` when absent.
    public static func count(_ raw: String?, name: String, limit: Int) throws(S3Error) -> Int {
        guard let raw else { return limit }
        return min(try argument(raw, name: name), limit)
    }

    /// `part-number-marker` and `x-amz-part-number-marker`: a non-negative 32-bit integer, 0 when absent.
    public static func partNumberMarker(_ raw: String?, name: String) throws(S3Error) -> Int {
        guard let raw else { return 0 }
        return try argument(raw, name: name)
    }

    /// A non-negative 32-bit argument named `name`, or AWS's InvalidArgument for it.
    private static func argument(_ raw: String, name: String) throws(S3Error) -> Int {
        guard let value = integer(raw) else {
            throw S3Error(.invalidArgument, "Provided \(name) not an integer or within integer range",
                          details: [("ArgumentName", name), ("ArgumentValue", raw)])
        }
        return value
    }

    /// `partNumber`: 1 to 10,000.
    public static func partNumber(_ raw: String?) throws(S3Error) -> Int {
        guard let raw, let number = integer(raw), partNumbers.contains(number) else {
            throw S3Error(.invalidArgument, "Part number must be an integer between 1 and 10000, inclusive",
                          details: [("ArgumentName", "partNumber"), ("ArgumentValue", raw ?? "")])
        }
        return number
    }

    /// A byte count in a header (`Content-Length`, `x-amz-mp-object-size`): a non-negative 64-bit integer.
    public static func length(_ raw: String, name: String) throws(S3Error) -> Int64 {
        guard let value = Int64(raw), value >= 0 else {
            throw S3Error(.invalidArgument, "Invalid \(name)", details: [("ArgumentName", name), ("ArgumentValue", raw)])
        }
        return value
    }

    /// `x-amz-copy-source-range: bytes=first-last`, both inside a source of `size` bytes; the whole source when
    /// absent. `last + 1` cannot overflow: `last` is below `size`.
    public static func copySourceRange(_ header: String?, size: Int64) throws(S3Error) -> Range<Int64> {
        guard let header else { return 0..<size }
        let bounds = header.hasPrefix("bytes=") ? header.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false) : []
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, first <= last else {
            throw S3Error(.invalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                          details: [("ArgumentName", "x-amz-copy-source-range"), ("ArgumentValue", header)])
        }
        guard last < size else {
            throw S3Error(.invalidRange, "Range specified is not valid for source object of size: \(size)",
                          details: [("RangeRequested", header), ("ActualObjectSize", String(size))])
        }
        return first..<(last + 1)
    }

    /// A non-negative 32-bit integer in decimal, nil otherwise. AWS's API models type these parameters "Integer",
    /// a signed 32-bit value: a larger one is "not within integer range" to S3, whatever the platform's `Int`.
    public static func integer(_ raw: String) -> Int? {
        guard let value = Int32(raw), value >= 0 else { return nil }
        return Int(value)
    }
}
