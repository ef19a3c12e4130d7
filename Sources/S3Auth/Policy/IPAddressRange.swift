import Foundation

/// An IPv4 or IPv6 CIDR block of an `IpAddress` condition ("203.0.113.0/24", "2001:db8::/32", or one address).
struct IPAddressRange: Sendable, Equatable {
    let bytes: [UInt8]
    let prefixLength: Int

    /// Nil unless `text` is an address, or an address and a prefix length of one to three digits within the
    /// address's bits (a policy value names no zone: `%` is refused).
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].contains("%"), let address = Self.parse(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            // Int() would take "+8" and "-0": a prefix is digits only.
            guard (1...3).contains(parts[1].utf8.count), parts[1].utf8.allSatisfy(Self.isDigit),
                  let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        bytes = address
    }

    /// Whether `address` (textual, v4 or v6) lies in the block.
    func contains(_ address: String) -> Bool {
        guard let other = Self.parse(address) else { return false }
        let candidate: [UInt8]
        if other.count == bytes.count {
            candidate = other
        } else if bytes.count == 4, other.count == 16, other[0..<12] == Self.mappedPrefix[...] {
            candidate = Array(other[12...])  // an IPv4-mapped IPv6 address, as a dual-stack socket reports one
        } else {
            return false
        }
        var remaining = prefixLength
        for index in bytes.indices where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if bytes[index] & mask != candidate[index] & mask { return false }
            remaining -= 8
        }
        return true
    }

    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    /// Whether granting to this block is not granting to the public, as Block Public Access judges an
    /// `aws:SourceIp` range: /8 or narrower for IPv4, /32 or narrower for IPv6.
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
    /// A dual-stack listener reports IPv4 clients as IPv4-mapped addresses (::ffff:a.b.c.d), so an IPv6 block that
    /// reaches into ::ffff:0:0/96 is judged by the IPv4 block it covers there: "::/32" covers every IPv4 client.
    var confinesCallers: Bool {
        if bytes.count == 4 { return prefixLength >= 8 }
        guard prefixLength >= 32 else { return false }
        guard reachesIntoMappedIPv4 else { return true }
        return prefixLength - 96 >= 8
    }

    /// Whether some IPv4-mapped address lies in this IPv6 block.
    private var reachesIntoMappedIPv4: Bool {
        guard bytes.count == 16 else { return false }
        var remaining = min(prefixLength, 96)
        for index in Self.mappedPrefix.indices where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if bytes[index] & mask != Self.mappedPrefix[index] & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// Four bytes for dotted IPv4, sixteen for IPv6 (with `::` and an embedded IPv4 tail), nil otherwise.
    static func parse(_ text: String) -> [UInt8]? {
        if !text.contains(":") { return parseIPv4(Substring(text)) }
        var text = Substring(text)
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var out: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    out += v4
                } else {
                    // UInt16(_:radix:) would take a sign ("+1"): a group is hex digits only.
                    guard (1...4).contains(piece.utf8.count), piece.utf8.allSatisfy(Self.isHexDigit),
                          let value = UInt16(piece, radix: 16) else { return nil }
                    out += [UInt8(value >> 8), UInt8(value & 0xFF)]
                }
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count < 16 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy(Self.isDigit), let value = UInt8(part) else { return nil }
            out.append(value)
        }
        return out
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }
}
