import Foundation

/// A bucket's versioning state once it has had one; a bucket never versioned has none (S3 cannot go back).
public enum VersioningState: String, Sendable, Equatable {
    case enabled = "Enabled"
    case suspended = "Suspended"
}

/// A bucket as the index records it.
public struct BucketInfo: Sendable, Equatable {
    public var name: String
    public var creationDate: Date
    public var region: String
    public var versioning: VersioningState?
    /// The bucket's object lock settings; nil if object lock is not enabled on it.
    public var objectLock: ObjectLockConfiguration?
    /// The id of the account owning the bucket; nil only in a data folder from before accounts, until the
    /// operator's account adopts it at start-up.
    public var owner: String?
    /// The bucket's ACL; nil means the owner's full control alone.
    public var acl: AccessControlList?
    /// nil for buckets from before Object Ownership, which behave as ObjectWriter (ACLs on, as S3 was).
    public var ownership: ObjectOwnership?
    public var publicAccessBlock: PublicAccessBlock?
    /// The bucket's CORS rules, nil if it has none.
    public var cors: [CORSRule]?
    /// The bucket's static website configuration, nil if it is not a website.
    public var website: WebsiteConfiguration?
    /// The bucket's default encryption, nil if it has none.
    public var encryption: BucketEncryption?

    public init(
        name: String, creationDate: Date, region: String, versioning: VersioningState? = nil,
        objectLock: ObjectLockConfiguration? = nil, owner: String? = nil, acl: AccessControlList? = nil,
        ownership: ObjectOwnership? = nil, publicAccessBlock: PublicAccessBlock? = nil, cors: [CORSRule]? = nil,
        website: WebsiteConfiguration? = nil, encryption: BucketEncryption? = nil
    ) {
        self.encryption = encryption
        self.cors = cors
        self.website = website
        self.acl = acl
        self.ownership = ownership
        self.publicAccessBlock = publicAccessBlock
        self.name = name
        self.creationDate = creationDate
        self.region = region
        self.versioning = versioning
        self.objectLock = objectLock
        self.owner = owner
    }
}

/// Makes version IDs: the version's place in its key's history (16 hex digits) and 64 random bits, 32
/// characters safe in a query string. The place lets ListObjectVersions resume after a version-id-marker
/// even when that version has been deleted since (boto3 empties a bucket page by page that way).
/// `null` names the version an unversioned or suspended bucket writes.
public enum VersionID {
    public static let null = "null"

    public static func make(sequence: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        return hex(UInt64(sequence)) + hex(generator.next())
    }

    /// The place in its key's history a version ID records, if it is one this server made.
    public static func sequence(of id: String) -> Int64? {
        guard id.utf8.count == 32, let value = UInt64(id.prefix(16), radix: 16), value <= UInt64(Int64.max) else { return nil }
        return Int64(value)
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
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
    /// The object's tags, in the order they were set; nil or empty for none.
    public var tags: [ObjectTag]?
    /// Object lock: the version's retention, and its legal hold (nil if one was never set).
    public var retention: ObjectRetention?
    public var legalHold: Bool?
    /// The object's ACL, whose owner is the object's owner; nil in a bucket with ACLs disabled (the bucket owner
    /// owns it, with full control alone).
    public var acl: AccessControlList?
    /// `x-amz-website-redirect-location`: where the website endpoint redirects a request for this object.
    public var websiteRedirectLocation: String?
    /// How the object is encrypted at rest; nil for plain blobs.
    public var encryption: ObjectEncryption?

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

/// One object or bucket tag.
public struct ObjectTag: Sendable, Codable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
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

/// One stretch of an object's bytes: `size` bytes of a blob from `offset`. A single-part object has one; a
/// completed multipart upload one or more per part. Copies share blobs, and a part copied from a range of
/// another object refers to that range of its blob, so server-side copies write no bytes.
public struct BlobSegment: Sendable, Codable, Equatable {
    public var blobID: BlobID
    public var offset: Int64
    public var size: Int64

    public init(blobID: BlobID, offset: Int64 = 0, size: Int64) {
        self.blobID = blobID
        self.offset = offset
        self.size = size
    }
}

extension Array where Element == BlobSegment {
    /// The segments covering `range` of the bytes these segments make up, in order.
    public func slice(_ range: Range<Int64>) -> [BlobSegment] {
        var result: [BlobSegment] = []
        var start: Int64 = 0
        for segment in self {
            let end = start + segment.size
            defer { start = end }
            let lower = Swift.max(range.lowerBound, start)
            let upper = Swift.min(range.upperBound, end)
            guard lower < upper else { continue }
            result.append(BlobSegment(blobID: segment.blobID, offset: segment.offset + (lower - start), size: upper - lower))
        }
        return result
    }
}

/// One part of a completed multipart object, as GET `?partNumber=` and GetObjectAttributes report it.
public struct ObjectPart: Sendable, Codable, Equatable {
    public var number: Int
    public var size: Int64
    /// Base64 of the part's checksum in the object's algorithm, if the upload had one.
    public var checksum: String?

    public init(number: Int, size: Int64, checksum: String?) {
        self.number = number
        self.size = size
        self.checksum = checksum
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
    /// The parts of a completed multipart upload, in order; empty for an object stored whole.
    public var parts: [ObjectPart]
    /// The version's ID, `null` for the null version of a versioned bucket; nil in a bucket never versioned.
    /// The index assigns it when it stores the record.
    public var versionID: String?
    /// A delete marker: a version with no bytes saying the key was deleted.
    public var isDeleteMarker: Bool

    public init(
        bucket: String, key: String, size: Int64, etag: String, lastModified: Date,
        metadata: ObjectMetadata, checksum: StoredChecksum?, segments: [BlobSegment], parts: [ObjectPart] = [],
        versionID: String? = nil, isDeleteMarker: Bool = false
    ) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.metadata = metadata
        self.checksum = checksum
        self.segments = segments
        self.parts = parts
        self.versionID = versionID
        self.isDeleteMarker = isDeleteMarker
    }

    /// The version ID as S3 writes it: `null` for the null version.
    public var versionName: String { versionID ?? VersionID.null }
}

/// What must hold about the current object for a write to go ahead (`If-Match` / `If-None-Match` on PutObject,
/// CopyObject and CompleteMultipartUpload), checked atomically with the write.
public struct WriteCondition: Sendable, Equatable {
    /// What one conditional header names: any object (`*`), or objects with one of these unquoted ETags.
    public enum Match: Sendable, Equatable {
        case any
        case etags([String])

        func names(_ record: ObjectRecord) -> Bool {
            switch self {
            case .any: true
            case .etags(let etags): etags.contains(record.etag)
            }
        }
    }

    /// The write goes ahead only if an object exists and this names it.
    public var ifMatch: Match?
    /// The write goes ahead only if no object exists that this names.
    public var ifNoneMatch: Match?

    public init(ifMatch: Match? = nil, ifNoneMatch: Match? = nil) {
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
    }

    public static let always = WriteCondition()
    /// `If-None-Match: *`: only if no object exists under the key.
    public static let ifAbsent = WriteCondition(ifNoneMatch: .any)
    /// `If-Match: etag`: only if an object exists and its ETag (unquoted) is this one.
    public static func ifETagMatches(_ etag: String) -> WriteCondition { WriteCondition(ifMatch: .etags([etag])) }

    public var isUnconditional: Bool { ifMatch == nil && ifNoneMatch == nil }

    /// Whether the write may replace `current` (nil when the key has no object, or its latest version is a
    /// delete marker).
    public func holds(for current: ObjectRecord?) -> Bool {
        if let ifMatch {
            guard let current, ifMatch.names(current) else { return false }
        }
        if let ifNoneMatch, let current, ifNoneMatch.names(current) { return false }
        return true
    }
}

/// What a CompleteMultipartUpload answered, kept for a day so that a client retrying a Complete whose answer it
/// lost (SDKs retry after a timeout) gets the same answer rather than NoSuchUpload.
public struct CompletedUpload: Sendable, Equatable {
    public static let retention: TimeInterval = 24 * 3600

    public var uploadID: String
    public var bucket: String
    public var key: String
    /// Identifies the part list the Complete named; a retry must name the same parts.
    public var fingerprint: String
    public var etag: String
    public var checksum: StoredChecksum?
    public var versionID: String?
    public var completed: Date

    public init(
        uploadID: String, bucket: String, key: String, fingerprint: String, etag: String, checksum: StoredChecksum?,
        versionID: String?, completed: Date
    ) {
        self.uploadID = uploadID
        self.bucket = bucket
        self.key = key
        self.fingerprint = fingerprint
        self.etag = etag
        self.checksum = checksum
        self.versionID = versionID
        self.completed = completed
    }
}

/// A multipart upload in progress.
public struct MultipartUpload: Sendable, Equatable {
    public var uploadID: String
    public var bucket: String
    public var key: String
    public var initiated: Date
    /// What the completed object will carry.
    public var metadata: ObjectMetadata
    /// The checksum algorithm named at creation (S3's name), and FULL_OBJECT or COMPOSITE.
    public var checksumAlgorithm: String?
    public var checksumType: String?

    public init(
        uploadID: String, bucket: String, key: String, initiated: Date, metadata: ObjectMetadata,
        checksumAlgorithm: String? = nil, checksumType: String? = nil
    ) {
        self.uploadID = uploadID
        self.bucket = bucket
        self.key = key
        self.initiated = initiated
        self.metadata = metadata
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
    }
}

/// A part uploaded to a multipart upload.
public struct UploadedPart: Sendable, Equatable {
    public var number: Int
    public var size: Int64
    /// MD5 hex of the part's bytes, without quotes.
    public var etag: String
    public var lastModified: Date
    /// The part's checksum in the upload's algorithm (or the one the part was sent with).
    public var checksum: StoredChecksum?
    public var segments: [BlobSegment]

    public init(number: Int, size: Int64, etag: String, lastModified: Date, checksum: StoredChecksum?, segments: [BlobSegment]) {
        self.number = number
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.checksum = checksum
        self.segments = segments
    }
}

/// A record that shares blobs with another (a copy): the write goes ahead only if, in the same transaction,
/// the source still exists with these segments, so its blobs cannot have been freed meanwhile.
public struct SharedSource: Sendable, Equatable {
    public var bucket: String
    public var key: String
    /// The source version, if the copy named one; otherwise the current object.
    public var versionID: String?
    public var segments: [BlobSegment]

    public init(bucket: String, key: String, versionID: String? = nil, segments: [BlobSegment]) {
        self.bucket = bucket
        self.key = key
        self.versionID = versionID
        self.segments = segments
    }
}
