import Digest
import Foundation

/// One `<Part>` of a CompleteMultipartUpload request.
public struct RequestedPart: Equatable, Sendable {
    public var number: Int
    public var etag: String
    /// Part checksums the client listed, by algorithm.
    public var checksums: [ChecksumAlgorithm: String]

    public init(number: Int, etag: String, checksums: [ChecksumAlgorithm: String]) {
        self.number = number
        self.etag = etag
        self.checksums = checksums
    }
}

/// The CompleteMultipartUpload request document.
public enum CompleteMultipartUploadXML {
    /// Parses the CompleteMultipartUpload document. Any shape but a non-empty list of parts is MalformedXML.
    public static func parse(_ document: [UInt8]) throws(S3Error) -> [RequestedPart] {
        let root = try XMLReader.parse(document, limits: .completeMultipartUpload)
        guard root.name == "CompleteMultipartUpload" else { throw S3Error(.malformedXML) }
        let parts = root.children("Part")
        guard !parts.isEmpty else { throw S3Error(.malformedXML) }
        return try parts.map { element throws(S3Error) -> RequestedPart in
            guard let numberText = element.child("PartNumber")?.text.trimmingCharacters(in: .whitespacesAndNewlines),
                  let number = Int(numberText), let etag = element.child("ETag")?.text
            else { throw S3Error(.malformedXML) }
            var checksums: [ChecksumAlgorithm: String] = [:]
            for algorithm in ChecksumAlgorithm.allCases {
                if let value = element.child("Checksum" + algorithm.rawValue)?.text.trimmingCharacters(in: .whitespacesAndNewlines) {
                    checksums[algorithm] = value
                }
            }
            // Stored part ETags are lowercase MD5 hex; some clients send them uppercased.
            let unquoted = ETag.unquote(etag.trimmingCharacters(in: .whitespacesAndNewlines)).lowercased()
            return RequestedPart(number: number, etag: unquoted, checksums: checksums)
        }
    }
}
