"""Shared fixtures: private places for every test, the real bundled digest, a store under tmp_path, a digest writer.

Every test gets its own store, index cache, config and XDG folders through the environment
(``private_places``, autouse), so tests never touch the user's files and can run side by side
under pytest-xdist; a test that wants other places sets them itself (monkeypatch wins).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from reader.digest import bundled_digest

# Property tests are never timed: no per-example deadline and no "too slow" health check, so a
# busy machine cannot fail them (a test's own @settings still sets its number of examples).
settings.register_profile("untimed", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("untimed")

# An abstract long enough to be read as one whatever the title before it.
ABSTRACT = (
    "We study a problem that matters and propose a method that works well on several benchmarks; "
    "experiments show it beats strong baselines while staying simple, fast and easy to reproduce "
    "for anyone who reads the paper."
)


PLACES = {
    "PAPER_READER_DB": "store/store.json",
    "PAPER_READER_CACHE": "cache/paper-reader/index",
    "PAPER_READER_CONFIG": "config/paper-reader/config.toml",
    "XDG_DATA_HOME": "data",
    "XDG_CACHE_HOME": "cache",
    "XDG_CONFIG_HOME": "config",
    "XDG_STATE_HOME": "state",
}


# Where the user's session leaks into behaviour: a display (the real clipboard), SSH (open
# copies instead), an enclosing tmux. Tests that want one set it themselves.
SESSION = ("DISPLAY", "WAYLAND_DISPLAY", "SSH_TTY", "SSH_CONNECTION", "SSH_CLIENT", "TMUX", "TMUX_PANE")
# Sources on the network: a closed local port, so a test that forgot its local server fails fast
# instead of reaching the internet.
NOWHERE = "http://127.0.0.1:9"
NETWORK = ("HF_ENDPOINT", "PAPER_READER_ARXIV_URL")


@pytest.fixture(autouse=True)
def private_places(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of this test's own for the store, index cache, config and XDG homes (outside tmp_path);
    no display, SSH or tmux from the session running the tests; network sources pointed nowhere."""
    root = tmp_path_factory.mktemp("places")
    for var, where in PLACES.items():
        monkeypatch.setenv(var, str(root / where))
    for var in SESSION:
        monkeypatch.delenv(var, raising=False)
    for var in NETWORK:
        monkeypatch.setenv(var, NOWHERE)
    return root


@pytest.fixture
def sample_path() -> Path:
    """The real digest shipped in the package (164 papers)."""
    return bundled_digest()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's store lives (not created yet)."""
    return tmp_path / "store" / "store.json"


@pytest.fixture
def write_digest(tmp_path: Path):
    """Write a digest made of (title, abstract) pairs, or raw text/bytes, and return its path."""

    def write(content, name: str = "digest.txt") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes("".join(f"{t}\n{a}\n" for t, a in content).encode("utf-8"))
        return path

    return write
