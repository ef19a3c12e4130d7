private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
private let base64Alphabet: [UInt8] = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

/// Maps an ASCII byte to its base64 value; 0xFF for bytes outside the alphabet.
private let base64Values: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, byte) in base64Alphabet.enumerated() {
        table[Int(byte)] = UInt8(index)
    }
    return table
}()

extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits per byte.
    public var hexString: String {
        let bytes = Array(self)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = hexDigits[Int(byte >> 4)]
                out[2 * index + 1] = hexDigits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }

    /// Standard base64 (RFC 4648 section 4) with padding, as S3 uses for checksums and Content-MD5.
    public var base64String: String {
        let bytes = Array(self)
        let length = (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: length) { out in
            var written = 0
            var index = 0
            while index < bytes.count {
                let remaining = bytes.count - index
                let b0 = UInt32(bytes[index])
                let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
                let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
                let group = b0 << 16 | b1 << 8 | b2
                out[written] = base64Alphabet[Int(group >> 18 & 0x3F)]
                out[written + 1] = base64Alphabet[Int(group >> 12 & 0x3F)]
                out[written + 2] = remaining > 1 ? base64Alphabet[Int(group >> 6 & 0x3F)] : UInt8(ascii: "=")
                out[written + 3] = remaining > 2 ? base64Alphabet[Int(group & 0x3F)] : UInt8(ascii: "=")
                written += 4
                index += 3
            }
            return written
        }
    }
}

/// Decodes standard padded base64 (RFC 4648 section 4). Nil if the length is not a multiple of
/// four, a character is outside the alphabet, or padding appears anywhere but the end.
public func decodeBase64(_ s: String) -> [UInt8]? {
    let input = Array(s.utf8)
    guard input.count % 4 == 0 else { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(input.count / 4 * 3)
    var index = 0
    while index < input.count {
        let isLast = index + 4 == input.count
        var group: UInt32 = 0
        var padding = 0
        for offset in 0..<4 {
            let byte = input[index + offset]
            if byte == UInt8(ascii: "=") && isLast && offset >= 2 {
                padding += 1
                group <<= 6
                continue
            }
            let value = base64Values[Int(byte)]
            guard value != 0xFF, padding == 0 else { return nil }
            group = group << 6 | UInt32(value)
        }
        output.append(UInt8(group >> 16 & 0xFF))
        if padding < 2 { output.append(UInt8(group >> 8 & 0xFF)) }
        if padding < 1 { output.append(UInt8(group & 0xFF)) }
        index += 4
    }
    return output
}

/// Decodes hexadecimal (either case). Nil for odd lengths or non-hex characters.
public func decodeHex(_ s: String) -> [UInt8]? {
    let input = Array(s.utf8)
    guard input.count % 2 == 0 else { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(input.count / 2)
    var index = 0
    while index < input.count {
        guard let high = hexValue(input[index]), let low = hexValue(input[index + 1]) else {
            return nil
        }
        output.append(high << 4 | low)
        index += 2
    }
    return output
}

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
