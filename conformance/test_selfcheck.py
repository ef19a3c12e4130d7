"""Checks of the suite's own raw signer and body builders, against the signatures AWS publishes in its
"sigv4-streaming" and "sigv4-streaming-trailers" examples. They need no server: if these fail, the server
tests that use the raw helpers prove nothing."""

import datetime as dt
import re

import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from s3helpers import (
    STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, RawS3, Signer, aws_chunked_unsigned, crc32_b64, http_chunked,
)

EXAMPLE_CREDENTIALS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EXAMPLE_TIME = dt.datetime(2013, 5, 24, tzinfo=dt.timezone.utc)

# (payload hash, extra headers, seed, chunk signatures, canonical trailer, trailer signature) from the AWS docs.
VECTORS = {
    "signed": (
        STREAMING_SIGNED, {"Content-Length": "66824"},
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
         "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
         "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"],
        None, None,
    ),
    "signed-trailer": (
        STREAMING_SIGNED_TRAILER, {"x-amz-trailer": "x-amz-checksum-crc32c"},
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
        ["b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
         "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
         "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"],
        b"x-amz-checksum-crc32c:sOO8/Q==\n",
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
    ),
}


@pytest.mark.parametrize("name", VECTORS)
def test_raw_signer_matches_aws_published_streaming_example(name):
    payload_hash, extra, seed, chunk_sigs, trailer, trailer_sig = VECTORS[name]
    headers = {"Host": "s3.amazonaws.com", "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": "66560", "x-amz-storage-class": "REDUCED_REDUNDANCY", **extra}
    req = AWSRequest(method="PUT", url="https://s3.amazonaws.com/examplebucket/chunkObject.txt", headers=headers,
                     data=b"")
    signer = Signer(EXAMPLE_CREDENTIALS, "us-east-1", when=EXAMPLE_TIME, payload_hash=payload_hash)
    signer.add_auth(req)
    assert signer.seed_signature == seed
    previous = seed
    for data, expected in zip([b"a" * 65536, b"a" * 1024, b""], chunk_sigs):
        previous = signer.chunk_signature(previous, data)
        assert previous == expected
    if trailer:
        assert signer.trailer_signature(previous, trailer) == trailer_sig


def _decode_aws_chunked(body: bytes, signed: bool) -> tuple[bytes, list[str], bytes]:
    """A strict little decoder for the builder's output: (data, chunk signatures, trailer block)."""
    data, sigs, pos = b"", [], 0
    while True:
        end = body.index(b"\r\n", pos)
        header = body[pos:end].decode()
        pos = end + 2
        if signed:
            m = re.fullmatch(r"([0-9a-f]+);chunk-signature=([0-9a-f]{64})", header)
            assert m, header
            size, sigs = int(m.group(1), 16), sigs + [m.group(2)]
        else:
            size = int(header, 16)
        if size == 0:
            return data, sigs, body[pos:]
        data += body[pos:pos + size]
        assert body[pos + size:pos + size + 2] == b"\r\n"
        pos += size + 2


@pytest.mark.parametrize("mode", ["signed", "signed-trailer", "unsigned-trailer"])
def test_streaming_builder_frames_the_body(mode):
    raw = RawS3("http://127.0.0.1:9", "AK", "SK")
    data = bytes(range(256)) * 1000
    prepared = raw.streaming_put("/b/k", data, mode=mode, chunk_size=64 * 1024)
    decoded, sigs, rest = _decode_aws_chunked(prepared.encoded, mode != "unsigned-trailer")
    assert decoded == data
    assert int(prepared.headers["Content-Length"]) == len(prepared.encoded)
    assert prepared.headers["X-Amz-Decoded-Content-Length"] == str(len(data))
    if mode == "signed":
        assert rest == b"\r\n"
        assert len(sigs) == 5
    else:
        lines = rest.split(b"\r\n")
        assert lines[0] == f"x-amz-checksum-crc32:{crc32_b64(data)}".encode()
        if mode == "signed-trailer":
            assert re.fullmatch(rb"x-amz-trailer-signature:[0-9a-f]{64}", lines[1])
            assert lines[2:] == [b"", b""]
        else:
            assert lines[1:] == [b"", b""]


def test_boto3_unsigned_trailer_shape_matches_builder():
    # What boto3 1.36+ put on the wire for Body=b"hello world" over HTTPS, checked on this machine with a
    # throwaway TLS listener (inside an HTTP chunk): the builder must produce the same aws-chunked bytes.
    assert aws_chunked_unsigned(b"hello world", 64 * 1024, [("x-amz-checksum-crc32", crc32_b64(b"hello world"))]) \
        == b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    assert http_chunked(b"abc", 2) == b"2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
