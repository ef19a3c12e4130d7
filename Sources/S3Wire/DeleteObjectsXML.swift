import Foundation

/// The DeleteObjects request document: `<Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>`.
public enum DeleteObjectsXML {
    public static let maxKeys = 1000

    public struct Request: Sendable, Equatable {
        public var quiet: Bool
        public var objects: [(key: String, versionID: String?)]

        public static func == (a: Request, b: Request) -> Bool {
            a.quiet == b.quiet && a.objects.elementsEqual(b.objects) { $0.key == $1.key && $0.versionID == $1.versionID }
        }
    }

    /// MalformedXML unless the document lists 1 to 1,000 objects, each with a key.
    public static func parse(_ document: [UInt8]) throws(S3Error) -> Request {
        let root = try XMLReader.parse(document, limits: .deleteObjects)
        guard root.name == "Delete" else { throw S3Error(.malformedXML) }
        let quiet = root.child("Quiet")?.text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == "true"
        let objects = root.children("Object")
        guard !objects.isEmpty, objects.count <= maxKeys else { throw S3Error(.malformedXML) }
        var listed: [(key: String, versionID: String?)] = []
        listed.reserveCapacity(objects.count)
        for object in objects {
            guard let key = object.child("Key")?.text else { throw S3Error(.malformedXML) }
            listed.append((key, object.child("VersionId")?.text))
        }
        return Request(quiet: quiet, objects: listed)
    }
}
