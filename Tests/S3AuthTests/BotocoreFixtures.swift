import S3Auth

// Fixtures captured from botocore 1.43.11 (boto3 1.43.11) on this machine with the clock frozen at
// 2026-11-20T12:34:56Z: a throwaway script that patched botocore.auth.get_current_datetime / formatdate /
// time.time, built an s3 client for endpoint http(s)://127.0.0.1:9000 with keys AKIAIOSFODNN7EXAMPLE /
// wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, and captured each prepared request in a before-send
// handler (User-Agent and amz-sdk-* dropped: unsigned; Host added as urllib3 sends it). Presigned URLs
// come from generate_presigned_url. botocore is the independent signer these check against.
enum BotocoreFixtures {
    static let sigV4: [Fixture] = [
        Fixture(
            method: "GET", path: "/bucket/a%20key%2Bwith/odd~chars%21%281%29.txt", query: "",
            headers: [
                ("x-amz-checksum-mode", "ENABLED"),
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date, Signature=517cce5e6c6c0ce2a9b45110d8fff5e901dc91c7b1ccd2f2aae2711df2fbae62"),
                ("Host", "127.0.0.1:9000"),
            ]),
        Fixture(
            method: "GET", path: "/bucket/unicode/%E2%82%AC%C3%BC.txt", query: "",
            headers: [
                ("Range", "bytes=0-9"),
                ("x-amz-checksum-mode", "ENABLED"),
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date, Signature=0c5872385a3937072a2a15c0e66003a1985b3916bf5e79a4f40e43196a974f76"),
                ("Host", "127.0.0.1:9000"),
            ]),
        Fixture(
            method: "GET", path: "/bucket", query: "list-type=2&prefix=a%20b%2Bc&delimiter=%2F&max-keys=5&encoding-type=url",
            headers: [
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=41e971f1202b9f44fe45d9f97a9667b59584b93ce410c867f87ab6abbb8f1d80"),
                ("Host", "127.0.0.1:9000"),
            ]),
        Fixture(
            method: "PUT", path: "/bucket/k", query: "",
            headers: [
                ("x-amz-meta-note", "  two   spaces  "),
                ("Expect", "100-continue"),
                ("x-amz-checksum-crc32", "NhCmhg=="),
                ("x-amz-sdk-checksum-algorithm", "CRC32"),
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-meta-note;x-amz-sdk-checksum-algorithm, Signature=0aed4071116a7b1fee959c8b391111e25e7b084222fad3a5fc0da9b64e97a5bb"),
                ("Content-Length", "5"),
                ("Host", "127.0.0.1:9000"),
            ], body: "hello"),
        Fixture(
            method: "GET", path: "/bucket/../dots/./x", query: "",
            headers: [
                ("x-amz-checksum-mode", "ENABLED"),
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date, Signature=9132d470a177b45d040a4b26a01edb8a442ba8a8f6d400672c9d8774968f5934"),
                ("Host", "127.0.0.1:9000"),
            ]),
        Fixture(
            method: "GET", path: "/bucket", query: "versions&key-marker=%3D%26%3F&encoding-type=url",
            headers: [
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=1479893ad3ff392c17799df07d0b57d32dcbd4004a757a8bb18a97d5b6970725"),
                ("Host", "127.0.0.1:9000"),
            ]),
    ]

    /// signature_version='s3' (botocore's HmacV1Auth).
    static let sigV2: [Fixture] = [
        Fixture(
            method: "GET", path: "/bucket/a%20key%2Bplus.txt", query: "",
            headers: [
                ("x-amz-checksum-mode", "ENABLED"),
                ("Date", "Fri, 20 Nov 2026 12:34:56 GMT"),
                ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:o4/RLD8EgRwAxrr/LG581fTOM/I="),
                ("Host", "127.0.0.1:9000"),
            ]),
        Fixture(
            method: "PUT", path: "/bucket/k", query: "",
            headers: [
                ("Content-Type", "text/plain"),
                ("x-amz-meta-b", "2"),
                ("x-amz-meta-a", "1"),
                ("Expect", "100-continue"),
                ("x-amz-checksum-crc32", "NhCmhg=="),
                ("x-amz-sdk-checksum-algorithm", "CRC32"),
                ("Date", "Fri, 20 Nov 2026 12:34:56 GMT"),
                ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:i4HI/C/1RHWoKOmLDlQiKD9wfxA="),
                ("Content-Length", "5"),
                ("Host", "127.0.0.1:9000"),
            ], body: "hello"),
        Fixture(
            method: "GET", path: "/bucket/k", query: "acl&versionId=v%201",
            headers: [
                ("Date", "Fri, 20 Nov 2026 12:34:56 GMT"),
                ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:AbE9g5FkW6rymdkMVGUWbecOCP0="),
                ("Host", "127.0.0.1:9000"),
            ]),
        Fixture(
            method: "GET", path: "/bucket/k", query: "response-content-disposition=attachment%3B%20filename%3D%22x%20y.txt%22",
            headers: [
                ("x-amz-checksum-mode", "ENABLED"),
                ("Date", "Fri, 20 Nov 2026 12:34:56 GMT"),
                ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:1LRV5rFB657ypUALOr3jFN0aAE0="),
                ("Host", "127.0.0.1:9000"),
            ]),
    ]

    /// Over HTTPS botocore sends aws-chunked with STREAMING-UNSIGNED-PAYLOAD-TRAILER.
    static let chunked: [Fixture] = [
        Fixture(
            method: "PUT", path: "/bucket/k", query: "",
            headers: [
                ("Expect", "100-continue"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Encoding", "aws-chunked"),
                ("X-Amz-Trailer", "x-amz-checksum-crc32"),
                ("X-Amz-Decoded-Content-Length", "11"),
                ("x-amz-sdk-checksum-algorithm", "CRC32"),
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=47502eeb456bf039803c517781019a20ef0e16788b47154e6fe5bb00f18afe6d"),
                ("Host", "127.0.0.1:9000"),
            ], body: "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"),
        Fixture(
            method: "PUT", path: "/bucket/k", query: "",
            headers: [
                ("x-amz-sdk-checksum-algorithm", "SHA256"),
                ("Expect", "100-continue"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Encoding", "aws-chunked"),
                ("X-Amz-Trailer", "x-amz-checksum-sha256"),
                ("X-Amz-Decoded-Content-Length", "100"),
                ("X-Amz-Date", "20261120T123456Z"),
                ("X-Amz-Content-SHA256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261120/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=cef0369452ba1daae951aebeb377df3a07c96dacc0151dac98a399986011c35c"),
                ("Host", "127.0.0.1:9000"),
            ], body: "64\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n0\r\nx-amz-checksum-sha256:Cey268i878cz9vLsRPeRq+7WqZ7fDMMVGWN4mK69Utg=\r\n\r\n"),
    ]

    /// generate_presigned_url with signature_version='s3v4': GET (3600 s) and PUT with ContentType (600 s).
    static let presignedV4: [Fixture] = [
        Fixture(method: "GET", url: "http://127.0.0.1:9000/bucket/a%20b%2Bc.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261120%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261120T123456Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=dbcc139d1c340387e64ebd87765181aae8c8cf28df048c0d480f4b405749266d", headers: [("Host", "127.0.0.1:9000")]),
        Fixture(method: "PUT", url: "http://127.0.0.1:9000/bucket/up?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261120%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261120T123456Z&X-Amz-Expires=600&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=6e220267dcfae87f0c1ab205b670c588836680a369c41c234112d6c2d02c622b", headers: [("Host", "127.0.0.1:9000"), ("Content-Type", "text/plain")]),
    ]

    /// generate_presigned_url with the default us-east-1 signature (HmacV1QueryAuth): GET, and PUT
    /// with ContentType and ACL, which botocore moves into the query.
    static let presignedV2: [Fixture] = [
        Fixture(method: "GET", url: "http://127.0.0.1:9000/bucket/a%20b%2Bc.txt?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=bZVxaioc5o8gLzurh68WEGUD84A%3D&Expires=1795181696", headers: [("Host", "127.0.0.1:9000")]),
        Fixture(method: "PUT", url: "http://127.0.0.1:9000/bucket/up?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=mAWuI%2FUc7jRcdbI6sMmogcwYXjM%3D&content-type=text%2Fplain&x-amz-acl=public-read&Expires=1795178696", headers: [("Host", "127.0.0.1:9000")]),
    ]
}
