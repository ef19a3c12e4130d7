import Foundation

/// A bucket as the index records it.
public struct BucketInfo: Sendable, Equatable {
    public var name: String
    public var creationDate: Date
    public var region: String

    public init(name: String, creationDate: Date, region: String) {
        self.name = name
        self.creationDate = creationDate
        self.region = region
    }
}

/// The headers S3 stores with an object and returns on GET/HEAD.
public struct ObjectMetadata: Sendable, Codable, Equatable {
    public var contentType: String?
    public var contentEncoding: String?
    public var contentDisposition: String?
    public var contentLanguage: String?
    public var cacheControl: String?
    public var expires: String?
    /// `x-amz-meta-*` headers: lowercased names without the prefix, values as sent.
    public var userMetadata: [String: String]
    public var storageClass: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, contentDisposition: String? = nil,
        contentLanguage: String? = nil, cacheControl: String? = nil, expires: String? = nil,
        userMetadata: [String: String] = [:], storageClass: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.contentDisposition = contentDisposition
        self.contentLanguage = contentLanguage
        self.cacheControl = cacheControl
        self.expires = expires
        self.userMetadata = userMetadata
        self.storageClass = storageClass
    }
}

/// A checksum kept with an object, as S3 reports it (`x-amz-checksum-*`, `x-amz-checksum-type`).
public struct StoredChecksum: Sendable, Codable, Equatable {
    /// S3's algorithm name: CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.
    public var algorithm: String
    /// Base64 of the digest, with a `-N` suffix for a composite multipart checksum.
    public var value: String
    /// FULL_OBJECT or COMPOSITE.
    public var type: String

    public init(algorithm: String, value: String, type: String = "FULL_OBJECT") {
        self.algorithm = algorithm
        self.value = value
        self.type = type
    }
}

/// Names a blob in a ``BlobStore``. Opaque to everything but the store that made it.
public struct BlobID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// One stretch of an object's bytes. A single-part object has one; a completed multipart upload one per part.
public struct BlobSegment: Sendable, Codable, Equatable {
    public var blobID: BlobID
    public var size: Int64

    public init(blobID: BlobID, size: Int64) {
        self.blobID = blobID
        self.size = size
    }
}

/// The current version of a key.
public struct ObjectRecord: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var size: Int64
    /// The ETag without quotes: MD5 hex, or `hex-N` for multipart.
    public var etag: String
    public var lastModified: Date
    public var metadata: ObjectMetadata
    public var checksum: StoredChecksum?
    /// The object's bytes, in order; their sizes add up to `size`.
    public var segments: [BlobSegment]

    public init(
        bucket: String, key: String, size: Int64, etag: String, lastModified: Date,
        metadata: ObjectMetadata, checksum: StoredChecksum?, segments: [BlobSegment]
    ) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.metadata = metadata
        self.checksum = checksum
        self.segments = segments
    }
}

/// What must hold about the current object for a write to go ahead, checked atomically with the write.
public enum WriteCondition: Sendable, Equatable {
    case always
    /// `If-None-Match: *`: only if no object exists under the key.
    case ifAbsent
    /// `If-Match: etag`: only if an object exists and its ETag (unquoted) is this one.
    case ifETagMatches(String)
}
