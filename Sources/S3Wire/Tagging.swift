import ObjectStore

/// Tag sets: the `Tagging` document and the `x-amz-tagging` header, checked against S3's limits.
public enum TagSet {
    public static let maxObjectTags = 10
    public static let maxBucketTags = 50
    public static let maxKeyLength = 128
    public static let maxValueLength = 256

    /// Parses `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`.
    public static func parse(document: [UInt8], limit: Int) throws(S3Error) -> [ObjectTag] {
        let root = try XMLReader.parse(document, limits: .tagging)
        guard root.name == "Tagging", let set = root.child("TagSet") else { throw S3Error(.malformedXML) }
        let tags = try set.children("Tag").map { element throws(S3Error) -> ObjectTag in
            guard let key = element.child("Key")?.text, let value = element.child("Value")?.text else { throw S3Error(.malformedXML) }
            return ObjectTag(key: key, value: value)
        }
        try validate(tags, limit: limit)
        return tags
    }

    public static let headerEncodingError = S3Error(
        .invalidArgument,
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        details: [("ArgumentName", "x-amz-tagging")])

    /// Parses the `x-amz-tagging` header: a URL-encoded query string, `k1=v1&k2=v2`. Duplicate keys are an
    /// encoding error here (InvalidArgument), where the XML form calls them InvalidTag.
    public static func parse(header: String) throws(S3Error) -> [ObjectTag] {
        guard !header.isEmpty else { return [] }
        let tags = try header.split(separator: "&", omittingEmptySubsequences: true).map { pair throws(S3Error) -> ObjectTag in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Percent.decode(parts[0], plusIsSpace: true),
                  let value = parts.count > 1 ? Percent.decode(parts[1], plusIsSpace: true) : ""
            else { throw headerEncodingError }
            return ObjectTag(key: key, value: value)
        }
        if Set(tags.map(\.key)).count != tags.count { throw headerEncodingError }
        try validate(tags, limit: maxObjectTags)
        return tags
    }

    public static func validate(_ tags: [ObjectTag], limit: Int) throws(S3Error) {
        if tags.count > limit {
            throw S3Error(.badRequest, "\(limit == maxObjectTags ? "Object" : "Bucket") tags cannot be greater than \(limit)")
        }
        var seen: Set<String> = []
        for tag in tags {
            guard !tag.key.isEmpty, tag.key.count <= maxKeyLength else {
                throw S3Error(.invalidTag, "The TagKey you have provided is too long, max \(maxKeyLength)")
            }
            guard tag.value.count <= maxValueLength else {
                throw S3Error(.invalidTag, "The TagValue you have provided is too long, max \(maxValueLength)")
            }
            guard !tag.key.lowercased().hasPrefix("aws:") else {
                throw S3Error(.invalidTag, "Your TagKey cannot be prefixed with aws:")
            }
            guard seen.insert(tag.key).inserted else {
                throw S3Error(.invalidTag, "Cannot provide multiple Tags with the same key")
            }
        }
    }

    public static func write(_ tags: [ObjectTag], into xml: inout XMLWriter) {
        xml.element("Tagging", namespace: XMLWriter.s3Namespace) { x in
            x.element("TagSet") { set in
                for tag in tags {
                    set.element("Tag") { t in
                        t.element("Key", tag.key)
                        t.element("Value", tag.value)
                    }
                }
            }
        }
    }
}
