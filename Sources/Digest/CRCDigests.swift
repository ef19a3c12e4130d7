import CMartletCRC
import CMartletSystem

/// CRC-32 (ISO-HDLC, as zlib computes it), for x-amz-checksum-crc32. 4 bytes, big-endian.
public struct CRC32: StreamingDigest {
    private var crc: UInt = 0
    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        // zlib returns its initial value for a NULL buffer, whatever the running CRC.
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        crc = crc32_z(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    public mutating func finalize() -> [UInt8] {
        defer { crc = 0 }
        return bigEndianBytes(UInt32(truncatingIfNeeded: crc))
    }
}

/// CRC-32C (Castagnoli), for x-amz-checksum-crc32c. 4 bytes, big-endian.
public struct CRC32C: StreamingDigest {
    private var crc: UInt32 = 0
    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        crc = martlet_crc32c_update(crc, base, bytes.count)
    }

    public mutating func finalize() -> [UInt8] {
        defer { crc = 0 }
        return bigEndianBytes(crc)
    }
}

/// CRC-64/NVME, for x-amz-checksum-crc64nvme. 8 bytes, big-endian.
public struct CRC64NVME: StreamingDigest {
    private var crc: UInt64 = 0
    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        crc = martlet_crc64nvme_update(crc, base, bytes.count)
    }

    public mutating func finalize() -> [UInt8] {
        defer { crc = 0 }
        return bigEndianBytes(crc)
    }
}

@inline(__always)
func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}
