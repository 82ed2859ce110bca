"""Computes the RDS IAM auth token test vectors of tests/it/iam_token.rs with botocore
(AWS's own implementation of `aws rds generate-db-auth-token`), at a fixed time.

    target/py/bin/python ecom-infra/tests/vectors/iam_token_vectors.py

Output of botocore 1.44.8 is what the Rust tests expect of aws-sdk-rds's
AuthTokenGenerator; the first vector uses the example credentials of AWS's signing
documentation (AKIDEXAMPLE). The SDK puts X-Amz-Security-Token after the signature where
botocore puts it before, so the tests compare the parameters, not their order.
"""
import datetime
from unittest import mock

import boto3
import botocore.auth

FIXED = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
for session_token in (None, "FQoGZXIvYXdzEJr//////////wEaDEXAMPLE+session/token="):
    client = boto3.client(
        "rds",
        region_name="eu-west-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        aws_session_token=session_token,
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FIXED):
        print(client.generate_db_auth_token(
            DBHostname="mydb.abc123.eu-west-1.rds.amazonaws.com", Port=5432, DBUsername="iam_user", Region="eu-west-1"
        ))
