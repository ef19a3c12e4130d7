import Foundation
import HTTPTypes
import ObjectStore
import S3Wire

/// GetObjectTorrent: a BitTorrent metainfo file for the object (or the named version), hashed in one pass.
extension S3Handlers {
    /// AWS offers torrents only for objects under 5 GB.
    static let maxTorrentObjectSize: Int64 = 5_000_000_000

    func getObjectTorrent(_ bucket: String, _ key: String, _ context: RequestContext) async throws -> S3Response {
        let version = try Self.requestedVersion(context)
        let (record, reader): (ObjectRecord, ObjectReader)
        do {
            (record, reader) = try await storage.open { [storage] in
                if let version { return try await storage.index.objectVersion(bucket: bucket, key: key, versionID: version) }
                return try await storage.index.object(bucket: bucket, key: key)
            }
        } catch StoreError.noSuchKey {
            throw try await missingObjectError(bucket, key, version: version)
        }
        var torrent = TorrentFile()
        do {
            if record.isDeleteMarker { throw Self.deleteMarkerError(record, named: version != nil, key: key) }
            guard record.size < Self.maxTorrentObjectSize else {
                throw S3Error(.invalidRequest, "Torrents are available only for objects smaller than 5 GB.")
            }
            if record.size > 0 {
                try await reader.read(range: 0..<record.size, chunkSize: Self.readChunkSize) { chunk in
                    chunk.withUnsafeReadableBytes { torrent.update($0) }
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        let name = key.split(separator: "/").last.map(String.init) ?? key
        let scheme = configuration.tls == nil ? "http" : "https"
        let host = context.authority ?? "\(configuration.host):\(configuration.port)"
        let seed = "\(scheme)://\(host)/\(bucket)/\(Percent.encode(key, keepSlash: true))"
        let bytes = torrent.finish(name: name, webSeed: seed)
        var headers = HTTPFields()
        headers[.contentType] = "application/x-bittorrent"
        headers[.contentDisposition] = "attachment; filename=\"\(name.replacingOccurrences(of: "\"", with: "")).torrent\""
        if let version = record.versionID { headers[.amzVersionID] = version }
        return .bytes(bytes, headers: headers)
    }
}
