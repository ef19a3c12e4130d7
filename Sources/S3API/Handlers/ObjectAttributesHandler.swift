import Foundation
import HTTPTypes
import ObjectStore
import S3Wire

/// GetObjectAttributes: the object's ETag, checksum, parts, storage class and size, from the index alone.
extension S3Handlers {
    static let objectAttributeNames: Set<String> = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]

    func getObjectAttributes(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        let requested = Set(
            context.headers[values: HTTPField.Name("x-amz-object-attributes")!]
                .flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty })
        guard !requested.isEmpty else {
            throw S3Error(.invalidArgument, "Please specify at least one valid attribute to retrieve.",
                          details: [("ArgumentName", "x-amz-object-attributes")])
        }
        if let unknown = requested.first(where: { !Self.objectAttributeNames.contains($0) }) {
            throw S3Error(.invalidArgument, "Invalid attribute name specified.",
                          details: [("ArgumentName", "x-amz-object-attributes"), ("ArgumentValue", unknown)])
        }
        let maxParts = try Self.boundedCount(context.nonEmptyHeader("x-amz-max-parts"), name: "x-amz-max-parts", limit: 1000)
        let marker = try RequestNumber.partNumberMarker(context.nonEmptyHeader("x-amz-part-number-marker"), name: "x-amz-part-number-marker")
        let version = try Self.requestedVersion(context)
        let record = try await requireVersion(bucket, key, version: version)
        if record.isDeleteMarker { throw Self.deleteMarkerError(record, named: version != nil, key: key) }
        // An SSE-C object's attributes need its key, as its HEAD does.
        _ = try unsealer(for: record, context)

        var xml = XMLWriter()
        xml.element("GetObjectAttributesResponse", namespace: XMLWriter.s3Namespace) { x in
            if requested.contains("ETag") { x.element("ETag", record.etag) }
            if requested.contains("Checksum"), var checksum = record.checksum {
                // Unlike GET and HEAD, GetObjectAttributes gives a composite checksum without its `-N`.
                if let dash = checksum.value.lastIndex(of: "-") { checksum.value = String(checksum.value[..<dash]) }
                x.element("Checksum") { c in Self.writeChecksumElements(checksum, into: &c) }
            }
            if requested.contains("ObjectParts"), !record.parts.isEmpty {
                let remaining = record.parts.filter { $0.number > marker }
                let page = remaining.prefix(maxParts)
                x.element("ObjectParts") { p in
                    p.element("PartsCount", record.parts.count)
                    p.element("PartNumberMarker", marker)
                    p.element("NextPartNumberMarker", page.last?.number ?? marker)
                    p.element("MaxParts", maxParts)
                    p.element("IsTruncated", remaining.count > page.count)
                    // S3 lists the parts only of objects with a COMPOSITE checksum, the one kind whose parts
                    // keep checksums of their own.
                    if let checksum = record.checksum, checksum.type == MultipartChecksumMode.composite {
                        let algorithm = checksum.algorithm
                        for part in page {
                            p.element("Part") { e in
                                if let checksum = part.checksum { e.element("Checksum" + algorithm, checksum) }
                                e.element("PartNumber", part.number)
                                e.element("Size", part.size)
                            }
                        }
                    }
                }
            }
            if requested.contains("StorageClass") { x.element("StorageClass", record.metadata.storageClass ?? "STANDARD") }
            if requested.contains("ObjectSize") { x.element("ObjectSize", record.size) }
        }
        var response = S3Response.xml(xml)
        response.headers[.lastModified] = HTTPDate.rfc1123(record.lastModified)
        if let version = record.versionID { response.headers[.amzVersionID] = version }
        return response
    }
}
