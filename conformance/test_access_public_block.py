"""Block Public Access judges a bucket policy by AWS's rule: a statement that grants to everyone is public unless a
condition pins a fixed value of aws:SourceIp (no wider than /8, or /32 for IPv6), aws:SourceArn, aws:SourceVpc(e),
aws:SourceAccount, aws:SourceOwner, aws:userid, aws:PrincipalOrgID or s3:DataAccessPoint*, with a test that fails
when the key is absent. `...IfExists`, `ForAllValues:`, negated operators and wildcards pin nothing: such a policy
is refused by BlockPublicPolicy, reported public, and served to the owner's account alone under
RestrictPublicBuckets.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
"""

import pytest
from botocore.exceptions import ClientError

from access_helpers import anonymous_client, policy
from s3helpers import client_error

DENIED = (403, "AccessDenied")
ACCOUNT = "111111111111"
RESTRICT_ONLY = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True}


def _error(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return client_error(exc.value)


def _read_everyone(bucket: str, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition is not None:
        statement["Condition"] = condition
    return statement


# (id, Condition block, whether an anonymous GET from 127.0.0.1 gets through the policy once BPA is off)
PUBLIC = [
    ("StringEqualsIfExists-SourceAccount", {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}, True),
    ("ForAllValues-SourceAccount", {"ForAllValues:StringEquals": {"aws:SourceAccount": ACCOUNT}}, True),
    ("two-halves-of-IPv4", {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}, True),
    ("StringEqualsIfExists-userid", {"StringEqualsIfExists": {"aws:userid": "AIDAEXAMPLEUSERID"}}, True),
    ("StringEqualsIfExists-PrincipalOrgID", {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdef1234"}}, True),
    ("IfExists-beside-0.0.0.0/0", {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT},
                                   "IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
    ("ForAnyValue-IfExists", {"ForAnyValue:StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}, True),
    ("StringNotEquals-SourceAccount", {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}, True),
    ("NotIpAddress-SourceIp", {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, True),
    ("ArnNotLike-SourceArn", {"ArnNotLike": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic"}}, True),
    ("StringNotLike-SourceVpce", {"StringNotLike": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
    ("IPv4-/7", {"IpAddress": {"aws:SourceIp": "126.0.0.0/7"}}, True),
    ("IPv4-/0-beside-a-/24", {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "0.0.0.0/0"]}}, True),
    ("wildcard-SourceAccount", {"StringLike": {"aws:SourceAccount": "1111*"}}, False),
    ("wildcard-among-fixed-values", {"StringLike": {"aws:SourceAccount": [ACCOUNT, "*"]}}, False),
    ("question-mark-SourceVpc", {"StringLike": {"aws:SourceVpc": "vpc-1a2b3c4?"}}, False),
    ("wildcard-SourceArn", {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{ACCOUNT}:*"}}, False),
    ("IPv6-/31", {"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}, False),
]

CONFINED = [
    ("StringEquals-SourceAccount", {"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
    ("ForAnyValue-StringEquals-SourceAccount", {"ForAnyValue:StringEquals": {"aws:SourceAccount": ACCOUNT}}),
    ("StringEquals-userid", {"StringEquals": {"aws:userid": "AIDAEXAMPLEUSERID"}}),
    ("StringEquals-PrincipalOrgID", {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}),
    ("ArnEquals-SourceArn", {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic"}}),
    ("StringEquals-SourceVpce", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    ("IPv4-/8", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    ("IPv6-/32", {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}),
    ("IfExists-beside-a-fixed-account", {"StringEqualsIfExists": {"aws:userid": "AIDAEXAMPLEUSERID"},
                                         "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
]


@pytest.mark.parametrize("condition,reaches_anonymous", [pytest.param(c, r, id=i) for i, c, r in PUBLIC])
def test_public_conditions_are_refused_reported_and_restricted(s3, server, bucket, condition, reaches_anonymous):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    document = policy(_read_everyone(bucket, condition))
    # New buckets have all four settings on: BlockPublicPolicy refuses the policy.
    assert _error(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=document)) == DENIED
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=RESTRICT_ONLY)
    s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    # RestrictPublicBuckets: the public policy grants nothing to anyone outside the account.
    anonymous = anonymous_client(server)
    assert _error(lambda: anonymous.get_object(Bucket=bucket, Key="k")) == DENIED
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    if reaches_anonymous:
        # Without Block Public Access the policy does let anyone in: the refusal above was RestrictPublicBuckets'.
        s3.delete_public_access_block(Bucket=bucket)
        assert anonymous.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"


def test_a_public_statement_beside_a_confined_one_is_public(s3, server, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    document = policy(_read_everyone(bucket, {"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                      {**_read_everyone(bucket, {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}), "Sid": "vacuous"})
    assert _error(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=document)) == DENIED
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=RESTRICT_ONLY)
    s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    assert _error(lambda: anonymous_client(server).get_object(Bucket=bucket, Key="k")) == DENIED


def test_restrict_public_buckets_refuses_other_accounts_but_not_the_owners_users(s3, bucket, other_account, make_user):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=RESTRICT_ONLY)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        _read_everyone(bucket, {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}})))
    assert _error(lambda: other_account.s3.get_object(Bucket=bucket, Key="k")) == DENIED
    # A user of the owning account, with no policy of its own, is granted by the bucket policy still.
    user = make_user()
    assert user.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    s3.delete_public_access_block(Bucket=bucket)
    assert other_account.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"


@pytest.mark.parametrize("condition", [pytest.param(c, id=i) for i, c in CONFINED])
def test_confined_conditions_are_not_public(s3, server, bucket, condition):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    # All four settings stay on: a policy that is not public may be stored.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(_read_everyone(bucket, condition)))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert _error(lambda: anonymous_client(server).get_object(Bucket=bucket, Key="k")) == DENIED


def test_a_narrow_block_holding_the_caller_is_not_public(s3, server, bucket):
    """127.0.0.0/8 is as wide as a block may be and stay non-public: Block Public Access leaves it alone, and the
    anonymous caller inside it reads."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"local")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(_read_everyone(bucket, {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert anonymous_client(server).get_object(Bucket=bucket, Key="k")["Body"].read() == b"local"
    # One step wider is public, so all of BPA refuses it.
    wider = policy(_read_everyone(bucket, {"IpAddress": {"aws:SourceIp": "126.0.0.0/7"}}))
    assert _error(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=wider)) == DENIED


BAD_ADDRESSES = ["300.1.1.1/8", "1.2.3.4/33", "abc", "2001:db8::/129", "1.2.3.4/+8"]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_source_ip_values_that_are_not_addresses_are_malformed_bucket_policies(s3, bucket, address):
    s3.delete_public_access_block(Bucket=bucket)
    for statement in (_read_everyone(bucket, {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", address]}}),
                      {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
                       "Condition": {"NotIpAddress": {"aws:SourceIp": address}}}):
        assert _error(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=policy(statement))) == (400, "MalformedPolicy")
    assert _error(lambda: s3.get_bucket_policy(Bucket=bucket)) == (404, "NoSuchBucketPolicy")


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_source_ip_values_that_are_not_addresses_are_malformed_user_policies(iam, make_user, address):
    user = make_user()
    document = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                       "Condition": {"IpAddress": {"aws:SourceIp": address}}})
    assert _error(lambda: iam.put_user_policy(UserName=user.name, PolicyName="ip", PolicyDocument=document)) == \
        (400, "MalformedPolicyDocument")
    assert iam.list_user_policies(UserName=user.name)["PolicyNames"] == []
    good = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                   "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}}})
    iam.put_user_policy(UserName=user.name, PolicyName="ip", PolicyDocument=good)
    assert iam.list_user_policies(UserName=user.name)["PolicyNames"] == ["ip"]
