from __future__ import annotations

import pytest

from lib.errors import PathError
from lib.paths import clean_key, human_bytes, join_key, parent_prefix


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "a/../../b",
        "/etc/passwd",
        "\\windows\\system32",
        "C:\\boot.ini",
        "~/.aws/credentials",
        "a/%2e%2e/%2e%2e/etc/passwd",
        "%2e%2e%2fsecret",
        "%252e%252e%252fsecret",
        "a\x00b",
        "a/\nb",
        "x" * 1100,
        "s3://other-bucket/key",
        "file:///etc/passwd",
        "./a",
    ],
)
def test_keys_that_leave_the_lake_are_refused(key: str) -> None:
    with pytest.raises(PathError):
        clean_key(key)


def test_normal_keys_are_normalised() -> None:
    assert clean_key("curated//reviews/") == "curated/reviews/"
    assert clean_key("curated/reviews", folder=True) == "curated/reviews/"
    assert clean_key("") == ""
    assert join_key("raw", "/reviews/", "a.tsv") == "raw/reviews/a.tsv"
    assert parent_prefix("a/b/c/") == "a/b/"
    assert parent_prefix("a/") == ""


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1_500_000) == "1.5 MB"
    assert human_bytes(None) == ""
