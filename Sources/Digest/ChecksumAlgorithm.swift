/// The additional checksums S3 accepts in `x-amz-checksum-*` headers and trailers:
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
public enum ChecksumAlgorithm: String, Sendable, CaseIterable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"

    private static let headerPrefix = "x-amz-checksum-"

    /// The algorithm a header (or trailer) name carries, e.g. "x-amz-checksum-crc32" -> `.crc32`.
    /// Case-insensitive; nil for any other name (including "x-amz-checksum-mode" and "-type").
    public init?(headerName: String) {
        let lowered = headerName.lowercased()
        guard lowered.hasPrefix(Self.headerPrefix) else { return nil }
        let suffix = lowered.dropFirst(Self.headerPrefix.count)
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == suffix }) else {
            return nil
        }
        self = match
    }

    /// The lowercase header name, e.g. "x-amz-checksum-crc32".
    public var headerName: String {
        Self.headerPrefix + rawValue.lowercased()
    }

    /// A fresh digest for this algorithm.
    public func makeDigest() -> any StreamingDigest {
        switch self {
        case .crc32: CRC32()
        case .crc32c: CRC32C()
        case .crc64nvme: CRC64NVME()
        case .sha1: SHA1()
        case .sha256: SHA256()
        }
    }

    /// The digest size in bytes (before base64).
    public var digestLength: Int {
        switch self {
        case .crc32, .crc32c: 4
        case .crc64nvme: 8
        case .sha1: 20
        case .sha256: 32
        }
    }
}
