import Digest

/// A BitTorrent metainfo file (BEP 3) for one object, as GetObjectTorrent returns: the object's SHA-1 piece
/// hashes, built in one streaming pass, with the object's URL as an HTTP web seed (BEP 19), since this server
/// runs no tracker.
public struct TorrentFile: Sendable {
    /// S3's piece length.
    public static let pieceLength = 256 * 1024

    private var pieces: [UInt8] = []
    private var piece = SHA1()
    private var inPiece = 0
    private var length: Int64 = 0

    public init() {}

    /// Adds the next bytes of the object.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(rest.count, Self.pieceLength - inPiece)
            piece.update(UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            inPiece += take
            length += Int64(take)
            rest = rest.dropFirst(take)
            if inPiece == Self.pieceLength { endPiece() }
        }
    }

    /// The bencoded metainfo for an object named `name`, fetched from `webSeed`.
    public mutating func finish(name: String, webSeed: String) -> [UInt8] {
        if inPiece > 0 { endPiece() }
        var out: [UInt8] = []
        Bencode.dictionary(into: &out) { d in
            d.entry("info") { out in
                Bencode.dictionary(into: &out) { info in
                    info.entry("length") { Bencode.integer(length, into: &$0) }
                    info.entry("name") { Bencode.string(Array(name.utf8), into: &$0) }
                    info.entry("piece length") { Bencode.integer(Int64(Self.pieceLength), into: &$0) }
                    info.entry("pieces") { Bencode.string(pieces, into: &$0) }
                }
            }
            d.entry("url-list") { Bencode.string(Array(webSeed.utf8), into: &$0) }
        }
        return out
    }

    private mutating func endPiece() {
        pieces += piece.finalize()
        inPiece = 0
    }
}

/// Bencoding (BEP 3): byte strings, integers and dictionaries, whose keys the caller gives in sorted order.
enum Bencode {
    static func string(_ bytes: [UInt8], into out: inout [UInt8]) {
        out += Array("\(bytes.count):".utf8)
        out += bytes
    }

    static func integer(_ value: Int64, into out: inout [UInt8]) {
        out += Array("i\(value)e".utf8)
    }

    struct Dictionary {
        fileprivate var out: [UInt8]
        private var lastKey: [UInt8]?

        fileprivate init(out: [UInt8]) { self.out = out }

        mutating func entry(_ key: String, _ value: (inout [UInt8]) -> Void) {
            let bytes = Array(key.utf8)
            precondition(lastKey.map { $0.lexicographicallyPrecedes(bytes) } ?? true, "bencoded keys must be sorted")
            lastKey = bytes
            Bencode.string(bytes, into: &out)
            value(&out)
        }
    }

    static func dictionary(into out: inout [UInt8], _ body: (inout Dictionary) -> Void) {
        var dictionary = Dictionary(out: out + [UInt8(ascii: "d")])
        body(&dictionary)
        out = dictionary.out + [UInt8(ascii: "e")]
    }
}
