"""Integration fixtures: real servers started as subprocesses for the test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

try:
    from tests.servers import running_s3_server
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from servers import running_s3_server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[dict[str, str]]:
    """A real S3-protocol server (moto) with credentials enforced; endpoint and credentials."""
    with running_s3_server() as (credentials, _process):
        yield credentials
