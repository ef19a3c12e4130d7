import Digest
import Testing

struct ChecksumAlgorithmTests {
    @Test(arguments: [
        ("x-amz-checksum-crc32", ChecksumAlgorithm.crc32),
        ("X-Amz-Checksum-CRC32C", .crc32c),
        ("x-amz-checksum-crc64nvme", .crc64nvme),
        ("x-amz-checksum-sha1", .sha1),
        ("X-AMZ-CHECKSUM-SHA256", .sha256),
    ])
    func parsesHeaderNames(_ name: String, _ expected: ChecksumAlgorithm) {
        #expect(ChecksumAlgorithm(headerName: name) == expected)
    }

    @Test(arguments: ["x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-", "crc32", "x-amz-checksum-md5"])
    func refusesOtherNames(_ name: String) {
        #expect(ChecksumAlgorithm(headerName: name) == nil)
    }

    @Test(arguments: ChecksumAlgorithm.allCases)
    func headerNameRoundTrips(_ algorithm: ChecksumAlgorithm) {
        #expect(algorithm.headerName == "x-amz-checksum-" + algorithm.rawValue.lowercased())
        #expect(ChecksumAlgorithm(headerName: algorithm.headerName) == algorithm)
        var digest = algorithm.makeDigest()
        #expect(digest.finalize().count == algorithm.digestLength)
    }
}
