"""Export to a file: which papers (scopes), where (a folder the user names), never overwriting."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from reader.core.results import Exported, ExportScope
from reader.export import export
from reader.paper import Paper
from reader.store import Annotation

SUFFIXES = {"json": "json", "markdown": "md", "bibtex": "bib", "csv": "csv", "ris": "ris"}


class ExportError(Exception):
    """The export was not written; ``str()`` is one line saying why."""


class FolderMissing(ExportError):
    """The folder to export to does not exist (it is created only when the user says so)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(f"{folder}: no such folder")
        self.folder = folder


def default_folder() -> Path:
    """Where exports go unless the user says otherwise: the working folder, or home when it was deleted."""
    try:
        return Path.cwd()
    except OSError:
        return Path.home()


def export_scopes(
    bookmarked: Sequence[Paper],
    marked: Sequence[Paper],
    shown: Sequence[Paper],
    tagged: Mapping[str, Sequence[Paper]],
) -> list[ExportScope]:
    """The non-empty sets of papers an export can take: bookmarked, marked, shown, then each tag."""
    groups: list[tuple[str, str, Sequence[Paper]]] = [
        ("bookmarked", "bookmarked", bookmarked),
        ("marked", "marked", marked),
        ("shown", "shown", shown),
    ]
    groups += [(f"tag-{tag}", f"#{tag}", papers) for tag, papers in tagged.items()]
    return [
        ExportScope(key, f"{label} papers ({len(papers)})", tuple(papers)) for key, label, papers in groups if papers
    ]


def free_path(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``… so an export never overwrites a file."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def write_export(
    scope: ExportScope,
    fmt: str,
    folder: str | os.PathLike[str],
    annotation_of: Callable[[Paper], Annotation | None],
    create: bool = False,
) -> Exported:
    """Write the scope's papers in ``fmt`` to a new file in ``folder``.

    A folder that does not exist raises FolderMissing unless ``create`` (the user said yes);
    a relative folder with the working folder deleted, or any write error, raises ExportError.
    """
    target = Path(folder).expanduser()
    if not target.is_absolute():
        try:
            target = Path.cwd() / target
        except OSError:
            raise ExportError(f"{folder}: the working folder is gone; give a full path") from None
    if not target.is_dir():
        if target.exists():
            raise ExportError(f"{target}: not a folder")
        if not create:
            raise FolderMissing(target)
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in scope.key)
    path = free_path(target / f"paper-reader-{name}.{SUFFIXES.get(fmt, fmt)}")
    try:
        target.mkdir(parents=True, exist_ok=True)
        text = export([(p, annotation_of(p)) for p in scope.papers], fmt)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as err:
        raise ExportError(f"{path}: {err.strerror or err}") from None
    return Exported(path, len(scope.papers), fmt)
