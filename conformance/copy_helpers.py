"""Helpers shared by test_copy.py (CopyObject) and test_upload_part_copy.py (UploadPartCopy): copy-source
arguments, reading an object back, storing a multipart source through s3transfer, and the table of
x-amz-copy-source-if-* conditions both operations are checked against.
"""

import datetime as dt

from boto3.s3.transfer import TransferConfig

MiB = 1024 * 1024
DAY = dt.timedelta(days=1)
OTHER_ETAG = '"0123456789abcdef0123456789abcdef"'


def _body(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _src(bucket: str, key: str, **extra) -> dict:
    return {"Bucket": bucket, "Key": key, **extra}


def _multipart_upload_file(s3, bucket, key, data, tmp_path, part_size=5 * MiB):
    """Stores `data` as a multipart object through s3transfer (upload_file with a small threshold)."""
    path = tmp_path / ("mp-" + key.replace("/", "_"))
    path.write_bytes(data)
    config = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=2)
    s3.upload_file(str(path), bucket, key, Config=config)


# (name, builder(etag, last_modified) -> kwargs, copies?) ; lm is the source's Last-Modified (second precision).
CONDITIONS = [
    ("if-match-true", lambda e, lm: {"CopySourceIfMatch": e}, True),
    ("if-match-false", lambda e, lm: {"CopySourceIfMatch": OTHER_ETAG}, False),
    ("if-none-match-true", lambda e, lm: {"CopySourceIfNoneMatch": OTHER_ETAG}, True),
    ("if-none-match-false", lambda e, lm: {"CopySourceIfNoneMatch": e}, False),
    ("if-unmodified-since-true", lambda e, lm: {"CopySourceIfUnmodifiedSince": lm + DAY}, True),
    ("if-unmodified-since-false", lambda e, lm: {"CopySourceIfUnmodifiedSince": lm - DAY}, False),
    ("if-modified-since-true", lambda e, lm: {"CopySourceIfModifiedSince": lm - DAY}, True),
    ("if-modified-since-false", lambda e, lm: {"CopySourceIfModifiedSince": lm}, False),
    # AWS (CopyObject API reference): if-match true + if-unmodified-since false -> 200 and the copy is made ...
    ("if-match-true+if-unmodified-since-false",
     lambda e, lm: {"CopySourceIfMatch": e, "CopySourceIfUnmodifiedSince": lm - DAY}, True),
    # ... and if-none-match false + if-modified-since true -> 412.
    ("if-none-match-false+if-modified-since-true",
     lambda e, lm: {"CopySourceIfNoneMatch": e, "CopySourceIfModifiedSince": lm - DAY}, False),
    ("if-match-false+if-unmodified-since-true",
     lambda e, lm: {"CopySourceIfMatch": OTHER_ETAG, "CopySourceIfUnmodifiedSince": lm + DAY}, False),
]
