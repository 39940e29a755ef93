"""Fixtures of the reports' tests over the known contents of tests/report_data.py."""

from __future__ import annotations

import pytest
from report_data import Dataset, add_report_people, build_dataset


@pytest.fixture
def report_people(web_archive):  # noqa: ANN001, ANN201
    add_report_people(web_archive)


@pytest.fixture
def dataset(web_archive, report_people) -> Dataset:  # noqa: ANN001
    return build_dataset(web_archive)
