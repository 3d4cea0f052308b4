"""Opening a library: which digests (given, the config's folder, the bundled sample), parsed and indexed."""

from __future__ import annotations

import os
from collections.abc import Sequence

from reader.collection import AmbiguousId, Collection, UnknownPaper
from reader.config import Config
from reader.core.heap import bulk_allocation
from reader.core.library import OpenLibrary
from reader.digest import Library, LibraryLoader, bundled_digest
from reader.index.build import IndexBuilder
from reader.index.segments import SegmentCache
from reader.paper import Paper
from reader.sources.folder import default_folder, holds_digest
from reader.store import Store

Paths = Sequence[str | os.PathLike[str]]


def default_digests(config: Config | None) -> list[str | os.PathLike[str]]:
    """What opens when no digest is named: the config's digests folder, else the default
    digests folder once it holds a digest (``paper-reader fetch`` fills it), else the bundled sample."""
    if config is not None and config.digests is not None:
        return [config.digests]
    folder = default_folder()
    return [folder] if holds_digest(folder) else [bundled_digest()]


def read_digests(paths: Paths, encoding: str | None = None, builder: IndexBuilder | None = None) -> Library:
    """The digests' papers (warnings in ``Library.warnings``), from their cached segments where the
    files are unchanged, else parsed (a ``builder`` indexes a big one as it is parsed).

    Only each file's start is checked up front: nothing is shown before the parse ends anyway.
    """
    loader = LibraryLoader(list(paths), encoding, check_whole=False, segments=SegmentCache(), builder=builder)
    library = Library()
    for _papers, _progress in loader.batches(library):
        pass
    return library


def open_library(
    paths: Paths, store: Store, encoding: str | None = None, index: bool = True, save: bool = True
) -> OpenLibrary:
    """The digests at ``paths`` with the store's annotations, first-seen dates noted, indexed if ``index``.

    A read-only store is not written (first-seen dates are then the store's, else the files').
    What the open parsed is cached once indexed, unless ``save`` is false: then the caller calls
    ``collection.library.save_segments()`` when it suits it (the CLI: after its answer is out).
    """
    # A big digest is indexed by a helper process while it is parsed (reader.index.build).
    builder = IndexBuilder.start_for(list(paths), encoding) if index else None
    try:
        with bulk_allocation():
            library = read_digests(paths, encoding, builder)
            collection = Collection(library, store, index=False)
            collection.note_seen()
            if index:
                collection.build_index(builder=builder, save=save)
    finally:
        if builder is not None:
            builder.close()
    return OpenLibrary(collection)


def _stored_paper(store: Store, pid: str) -> Paper | None:
    """A paper known to the store by a title snapshot (id or unique prefix); raises UnknownPaper if ambiguous."""
    annotations = store.annotations()  # the papers with a record; read marks have no title
    if pid in annotations:
        found = [pid]
    elif len(pid) >= 4:
        found = [key for key in annotations if key.startswith(pid)]
    else:
        return None
    titled = [key for key in found if annotations[key].title.strip()]
    if len(titled) > 1:
        raise AmbiguousId(f"{pid}: id prefix matches {len(titled)} papers; give more of it")
    if not titled:
        return None
    annotation = annotations[titled[0]]
    return Paper(titled[0], annotation.title, annotation.abstract, "store", 0, True)


def locate(pid: str, store: Store, sources: Sequence[Paths], encoding: str | None = None) -> tuple[OpenLibrary, Paper]:
    """The paper with this id (or unique prefix) and a library holding it, to annotate it.

    Looks in the store first (a paper annotated before), then in each group of ``sources``
    in turn (say: the digests named, the config's folder, the bundled sample), parsing a
    group only when the ones before did not have it. Raises UnknownPaper when none does;
    a paper is never made up from an id alone (no record with an empty title).
    """
    key = pid.strip().lower()
    if len(key) < 4 and store.annotation(key) is None:
        raise UnknownPaper(f"{key}: give at least 4 characters of a paper id")
    stored = _stored_paper(store, key)
    if stored is not None:
        library = Library(papers=[stored])
        return OpenLibrary(Collection(library, store, index=False)), stored
    for paths in sources:
        if not paths:
            continue
        collection = Collection(read_digests(paths, encoding), store, index=False)
        try:
            return OpenLibrary(collection), collection.find(key)
        except AmbiguousId:
            raise
        except UnknownPaper:
            continue
    raise UnknownPaper(f"{key}: no paper with this id in the store or the digests")
