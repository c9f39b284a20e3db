"""Only on the tests' PYTHONPATH: subprocesses of the test session record their AWS uses too (tests/aws_calls.py)."""

import os

if os.environ.get("TEST_AWS_CALLS_LOG"):
    from tests import aws_calls

    aws_calls.install(aws_calls.file_sink(os.environ["TEST_AWS_CALLS_LOG"]))
