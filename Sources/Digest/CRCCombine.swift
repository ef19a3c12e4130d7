/// Combining CRCs of adjacent byte ranges without re-reading the bytes.
///
/// S3's `x-amz-checksum-type: FULL_OBJECT` asks for the CRC of a multipart object as a whole,
/// but the server only saw the bytes part by part, possibly out of order and in different
/// requests. Re-reading gigabytes at CompleteMultipartUpload would be slow, so instead we keep
/// each part's CRC and length and fold them: O(log(length)) polynomial multiplications per part.
///
/// The math, for a reflected CRC of width W with polynomial P and init = xorout = all ones:
/// appending n bytes to a message multiplies its register by x^(8n) mod P, so
///
///     CRC(A ‖ B) = CRC(A) · x^(8·len(B)) mod P  ⊕  CRC(B)
///
/// The init and xorout contributions would add (init ⊕ xorout) · x^(8·len(B)); because init
/// equals xorout for all three S3 CRCs they cancel, and the finished CRC values (not the raw
/// registers) combine directly. x^(8n) is built from a table of x^(8·2^k) by multiplying in one
/// entry per set bit of n, as zlib (≥ 1.2.12) does for CRC-32; here one generic implementation
/// serves CRC-32, CRC-32C and CRC-64/NVME, so the three cannot drift apart.
public enum CRCCombine {
    /// CRC-32 (ISO-HDLC, zlib's) of A ‖ B, given CRC-32(A), CRC-32(B) and len(B) in bytes.
    /// `lengthOfB` must not be negative; 0 returns `a` (the only consistent `b` is then 0).
    public static func crc32(_ a: UInt32, _ b: UInt32, lengthOfB: Int64) -> UInt32 {
        crc32Field.combine(a, b, lengthOfB: lengthOfB)
    }

    /// CRC-32C (Castagnoli) of A ‖ B, given CRC-32C(A), CRC-32C(B) and len(B) in bytes.
    /// `lengthOfB` must not be negative; 0 returns `a`.
    public static func crc32c(_ a: UInt32, _ b: UInt32, lengthOfB: Int64) -> UInt32 {
        crc32cField.combine(a, b, lengthOfB: lengthOfB)
    }

    /// CRC-64/NVME of A ‖ B, given CRC-64/NVME(A), CRC-64/NVME(B) and len(B) in bytes.
    /// `lengthOfB` must not be negative; 0 returns `a`.
    public static func crc64nvme(_ a: UInt64, _ b: UInt64, lengthOfB: Int64) -> UInt64 {
        crc64nvmeField.combine(a, b, lengthOfB: lengthOfB)
    }

    // Built once, lazily and thread-safely (Swift globals/static lets), then only read.
    private static let crc32Field = ReflectedCRCField<UInt32>(reflectedPolynomial: 0xEDB8_8320)
    private static let crc32cField = ReflectedCRCField<UInt32>(reflectedPolynomial: 0x82F6_3B78)
    private static let crc64nvmeField = ReflectedCRCField<UInt64>(
        reflectedPolynomial: 0x9A6C_9329_AC4B_C9B5)
}

/// Polynomial arithmetic modulo a CRC polynomial P, in the CRC's reflected bit order.
///
/// A `Word` holds a polynomial of degree < W with the coefficient of x^0 in the most significant
/// bit and x^(W-1) in the least, the same order the reflected CRC register uses, so a CRC value
/// is already such a polynomial and needs no bit reversal. Multiplying by x is then a right
/// shift, reduced by XORing in P when a coefficient falls off the bottom (past x^(W-1)).
struct ReflectedCRCField<Word: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    /// P without its x^W term, reflected (e.g. 0xEDB88320 for CRC-32).
    let polynomial: Word
    /// `byteShifts[k]` = x^(8·2^k) mod P: appending 2^k bytes. 63 entries cover any
    /// non-negative Int64 length, so no reliance on the multiplicative order of x mod P.
    let byteShifts: [Word]

    init(reflectedPolynomial: Word) {
        polynomial = reflectedPolynomial
        var shifts: [Word] = []
        shifts.reserveCapacity(Int64.bitWidth - 1)
        var power = Self.one >> 8  // x^8: one byte; every width here exceeds 8 bits.
        for _ in 0..<(Int64.bitWidth - 1) {
            shifts.append(power)
            power = Self.multiply(power, power, polynomial: reflectedPolynomial)  // doubles the exponent
        }
        byteShifts = shifts
    }

    /// The polynomial 1 (x^0): the top bit.
    static var one: Word { Word(1) << (Word.bitWidth - 1) }

    /// a · b mod P. Walks a's coefficients from x^0 upward while b is stepped to b·x^i, adding
    /// b·x^i to the product wherever a has x^i; stops as soon as a has no higher terms left,
    /// so it costs at most W steps, each branch-free apart from the loop.
    @inline(__always)
    static func multiply(_ a: Word, _ b: Word, polynomial: Word) -> Word {
        var a = a
        var b = b
        var product: Word = 0
        while a != 0 {
            // All ones when a has the current x^i, else zero: a conditional XOR without a branch.
            product ^= b & (0 &- (a >> (Word.bitWidth - 1)))
            a <<= 1
            b = (b >> 1) ^ (polynomial & (0 &- (b & 1)))  // b · x, reduced mod P
        }
        return product
    }

    /// CRC(A ‖ B) from CRC(A), CRC(B) and len(B): shift `a` past len(B) bytes, then XOR `b`.
    func combine(_ a: Word, _ b: Word, lengthOfB: Int64) -> Word {
        precondition(lengthOfB >= 0, "CRC combine: negative length \(lengthOfB)")
        // An empty B leaves A's CRC as it was; return it rather than fold in a stray nonzero b.
        guard lengthOfB > 0 else { return a }
        var shifted = a
        var remaining = UInt64(lengthOfB)
        var k = 0
        // One table multiplication per set bit of the length: at most 63, typically ~popcount.
        while remaining != 0 && shifted != 0 {
            if remaining & 1 != 0 {
                shifted = Self.multiply(byteShifts[k], shifted, polynomial: polynomial)
            }
            remaining >>= 1
            k += 1
        }
        return shifted ^ b
    }
}

extension ChecksumAlgorithm {
    /// Whether a FULL_OBJECT checksum can be derived from the parts' checksums (S3 allows
    /// `x-amz-checksum-type: FULL_OBJECT` only for the CRCs; SHA digests cannot be combined).
    public var supportsFullObjectCombine: Bool {
        switch self {
        case .crc32, .crc32c, .crc64nvme: true
        case .sha1, .sha256: false
        }
    }

    /// The whole object's checksum from its consecutive parts' checksums (big-endian digest
    /// bytes, as `finalize()` returns them) and byte lengths, in part order.
    ///
    /// Lets CompleteMultipartUpload answer a FULL_OBJECT checksum without re-reading the parts.
    /// An empty list gives the CRC of zero bytes (all zero bytes). Nil for SHA1/SHA256, and for
    /// malformed input (a digest of the wrong size, a negative length) rather than trapping,
    /// since part records may come from storage or clients.
    public func combineFullObject(_ parts: [(digest: [UInt8], length: Int64)]) -> [UInt8]? {
        switch self {
        case .crc32: foldCRCs(parts, CRCCombine.crc32)
        case .crc32c: foldCRCs(parts, CRCCombine.crc32c)
        case .crc64nvme: foldCRCs(parts, CRCCombine.crc64nvme)
        case .sha1, .sha256: nil
        }
    }
}

/// Folds part CRCs left to right, starting from the CRC of nothing (0): combine(0, b, n) == b.
private func foldCRCs<Word: FixedWidthInteger & UnsignedInteger>(
    _ parts: [(digest: [UInt8], length: Int64)],
    _ combine: (Word, Word, Int64) -> Word
) -> [UInt8]? {
    var crc: Word = 0
    for part in parts {
        guard part.length >= 0, part.digest.count == Word.bitWidth / 8 else { return nil }
        let value = part.digest.reduce(Word(0)) { $0 << 8 | Word($1) }
        crc = combine(crc, value, part.length)
    }
    return bigEndianBytes(crc)
}
