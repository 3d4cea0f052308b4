"""The ``paper-reader`` command line: open the app, or list/search/show/annotate/export papers."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reader import __version__
from reader.collection import Collection, UnknownPaper, clean_record
from reader.completions import SHELLS, script
from reader.config import ConfigError, load_config
from reader.digest import DigestError, Library, LibraryLoader, bundled_digest
from reader.export import FORMATS, export, paper_record
from reader.index.build import IndexBuilder
from reader.paper import Paper
from reader.sorting import SORTS, sort_rows
from reader.store import Store, StoreError, default_path, is_kept
from reader.text import clean_line

PROG = "paper-reader"
# Digests bigger than this (in characters) are parsed on a worker while the app shows the first papers.
STREAM_ABOVE = 4_000_000
COMMANDS = ("list", "search", "show", "bookmark", "tag", "note", "export", "import", "doctor", "config", "completions")


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def _safe(text: str) -> str:
    """Text for output: no escape sequences or control characters, whatever the store holds."""
    return "\n".join(clean_line(line) for line in str(text).split("\n"))


def _add_common(parser: argparse.ArgumentParser, top: bool = False) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help="annotation store (default: $PAPER_READER_DB or the user data folder)",
    )
    parser.add_argument(
        "--encoding", metavar="NAME", default=default, help="encoding of the digest files (default: UTF-8)"
    )


def _count(text: str) -> int:
    """A whole number, 0 or more (argparse turns the ValueError into a usage error)."""
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A terminal reader for research-paper digests. With no command, opens the reader "
        "on the digests given (files or folders of *.txt), or on the bundled sample digest.",
        epilog="commands: " + ", ".join(COMMANDS) + f" (see '{PROG} COMMAND --help')",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("open", help="open the reader (the default command)")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--readonly", action="store_true", help="open the store read-only")
    _add_common(p)

    p = sub.add_parser("list", help="every paper: id<TAB>title, in file order")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--sort", choices=SORTS, default="file", help="order (default: file order)")
    _add_common(p)

    p = sub.add_parser("search", help="ranked papers for a query: id<TAB>score<TAB>title")
    p.add_argument("query")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--limit", type=_count, default=20, metavar="N", help="at most N papers (0: all; default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--sort", choices=SORTS, default="relevance", help="order (default: relevance)")
    _add_common(p)

    p = sub.add_parser("show", help="one paper: title, abstract, links, tags, note")
    p.add_argument("id")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--json", action="store_true")
    _add_common(p)

    for name, helptext in (
        ("bookmark", "bookmark a paper (--off removes it)"),
        ("tag", "add tags to a paper (--remove removes them)"),
        ("note", "set a paper's note ('' clears it)"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("id")
        if name == "bookmark":
            p.add_argument("--off", action="store_true", help="remove the bookmark")
        elif name == "tag":
            p.add_argument("tags", nargs="+", metavar="TAG")
            p.add_argument("--remove", action="store_true", help="remove these tags")
        else:
            p.add_argument("text")
        p.add_argument(
            "--file",
            action="append",
            default=[],
            metavar="PATH",
            help="digest to look the id up in (repeatable; default the bundled sample)",
        )
        _add_common(p)

    p = sub.add_parser("export", help="export annotated papers from the store to stdout")
    p.add_argument("--format", choices=FORMATS, default="json")
    p.add_argument("--bookmarked", action="store_true", help="only bookmarked papers")
    p.add_argument("--tag", action="append", default=[], metavar="T", help="only papers with this tag")
    _add_common(p)

    p = sub.add_parser("import", help="merge a JSON export into the store (nothing is dropped)")
    p.add_argument("file")
    _add_common(p)

    p = sub.add_parser("doctor", help="check the clipboard paths, the store and its backup, the config")
    _add_common(p)

    p = sub.add_parser("config", help="'config path' prints where the config file is read from")
    p.add_argument("action", choices=["path"])

    p = sub.add_parser("completions", help="print a shell completion script (bash, zsh or fish)")
    p.add_argument("shell", choices=SHELLS)
    return parser


def _normalize_argv(argv: list[str]) -> list[str]:
    """Insert the default ``open`` command when no command is named."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--db", "--encoding"):
            i += 2
            continue
        if arg.startswith("-") and arg != "-":
            if arg in ("-h", "--help", "--version"):
                return argv
            i += 1
            continue
        if arg in COMMANDS or arg == "open":
            return argv
        break
    return argv[:i] + ["open"] + argv[i:]


def _library(
    paths: Sequence[str | os.PathLike[str]], encoding: str | None, builder: IndexBuilder | None = None
) -> Library:
    """The digests (the bundled one if none), warnings printed; a ``builder`` gets the papers as they are parsed."""
    # Nothing is shown before the digests are parsed: a bad byte far in can wait for the parse.
    loader = LibraryLoader(list(paths) or [bundled_digest()], encoding, check_whole=False)
    library = Library()
    for papers, _progress in loader.batches(library):
        if builder is not None:
            builder.add(papers)
    for warning in library.warnings:
        print(f"{PROG}: warning: {_safe(warning)}", file=sys.stderr)
    return library


def _collection(
    args: argparse.Namespace, paths: Sequence[str], readonly: bool = False, index: bool = True
) -> Collection:
    files: list[str | os.PathLike[str]] = [*paths] or [bundled_digest()]
    # A big digest is indexed by a helper process while it is parsed (reader.index.build).
    builder = IndexBuilder.start_for(files, args.encoding) if index else None
    try:
        library = _library(files, args.encoding, builder)
        collection = Collection(library, Store(args.db, readonly=readonly), index=False)
        if index:
            collection.build_index(builder=builder)
        return collection
    finally:
        if builder is not None:
            builder.close()


def _json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def cmd_list(args: argparse.Namespace) -> None:
    if args.sort in ("file", "relevance"):
        papers = _library(args.paths, args.encoding).papers
    else:
        collection = _collection(args, args.paths, readonly=True, index=False)
        rows = np.arange(collection.file_count)
        papers = [collection.papers[i] for i in _sorted(collection, rows, args.sort)]
    out = sys.stdout
    for paper in papers:
        out.write(f"{paper.id}\t{paper.title}\n")


def _sorted(collection: Collection, rows: np.ndarray, mode: str) -> np.ndarray:
    if mode == "first-seen":
        collection.seen = collection.store.seen()
    return sort_rows(rows, collection.papers, mode, collection.records, collection.seen)


def cmd_search(args: argparse.Namespace) -> None:
    collection = _collection(args, args.paths, readonly=True)
    engine = collection.engine or collection.build_index()
    result = engine.search(args.query, collection.state)
    for error in result.query.errors:
        print(f"{PROG}: warning: {_safe(error)}", file=sys.stderr)
    scores = dict(zip(result.indices.tolist(), result.scores.tolist()))
    rows = _sorted(collection, result.indices, args.sort)[: args.limit or None]
    for index in rows:
        score = scores[int(index)]
        paper = collection.papers[index]
        if args.json:
            data = paper_record(paper, collection.record(paper))
            print(
                _json_line(
                    {
                        "id": paper.id,
                        "title": paper.title,
                        "score": round(float(score), 3),
                        "tags": data["tags"],
                        "bookmarked": data["bookmarked"],
                        "links": data["links"],
                    }
                )
            )
        else:
            print(f"{paper.id}\t{score:.2f}\t{paper.title}")


def cmd_show(args: argparse.Namespace) -> None:
    collection = _collection(args, args.paths, readonly=True)
    paper = collection.find(args.id)
    data = paper_record(paper, collection.record(paper))
    if args.json:
        print(_json_line(data))
        return
    lines = [paper.title, f"id: {paper.id}"]
    if data["bookmarked"]:
        lines.append(f"bookmarked: {data['bookmarked_at']}")
    if data["tags"]:
        lines.append("tags: " + ", ".join(_safe(t) for t in data["tags"]))
    if data["note"]:
        lines.append("note: " + _safe(data["note"]))
    lines.append("links:")
    lines.extend(f"  [{n}] {url}" for n, url in enumerate(data["links"], 1))
    lines.extend(["", paper.abstract or "(no abstract)"])
    print("\n".join(lines))


def _target(args: argparse.Namespace) -> tuple[Collection, Paper | str]:
    """Look an id up in the store, then in the digests named with --file."""
    store = Store(args.db)
    records = store.records()
    pid = args.id.strip().lower()
    in_store = [key for key in records if key == pid or (len(pid) >= 4 and key.startswith(pid))]
    library = _library(args.file, args.encoding)
    collection = Collection(library, store)
    if len(in_store) == 1 and in_store[0] not in collection.by_id:
        return collection, in_store[0]
    return collection, collection.find(pid)


def _describe(collection: Collection, target: Paper | str) -> str:
    if isinstance(target, Paper):
        return f"{target.id}\t{target.title}"
    title = collection.record(target).get("title") or "(not in the open digests)"
    return f"{target}\t{_safe(title)}"


def cmd_bookmark(args: argparse.Namespace) -> None:
    collection, target = _target(args)
    record = collection.store.set_bookmark(target, not args.off)
    collection.remember([record])
    print(("unbookmarked" if args.off else "bookmarked") + f"\t{_describe(collection, target)}")


def cmd_tag(args: argparse.Namespace) -> None:
    collection, target = _target(args)
    before = collection.record(target).get("tags") or []
    if args.remove:
        record = collection.store.remove_tags(target, args.tags)
    else:
        record = collection.store.add_tags(target, args.tags)
    collection.remember([record])
    after = record["tags"]
    added = [t for t in after if t.casefold() not in {b.casefold() for b in before}]
    removed = [t for t in before if t.casefold() not in {a.casefold() for a in after}]
    change = " ".join([f"+{t}" for t in added] + [f"-{t}" for t in removed]) or "unchanged"
    print(f"tags {_safe(change)}\t{_describe(collection, target)}\t[{_safe(', '.join(after))}]")


def cmd_note(args: argparse.Namespace) -> None:
    collection, target = _target(args)
    record = collection.store.set_note(target, args.text)
    collection.remember([record])
    print(("note cleared" if not record["note"] else "note saved") + f"\t{_describe(collection, target)}")


def _store_papers(store: Store) -> list[tuple[Paper, dict[str, Any]]]:
    items = []
    for n, (pid, record) in enumerate(store.records().items()):
        record = clean_record(record)
        if is_kept(record):
            items.append((Paper(pid, record.get("title", ""), record.get("abstract", ""), "store", n, True), record))
    return items


def cmd_export(args: argparse.Namespace) -> None:
    items = _store_papers(Store(args.db, readonly=True))
    if args.bookmarked:
        items = [(p, r) for p, r in items if r.get("bookmarked_at")]
    for tag in args.tag:
        items = [(p, r) for p, r in items if tag.lstrip("#").casefold() in {t.casefold() for t in r.get("tags", [])}]
    sys.stdout.write(export(items, args.format))


def cmd_import(args: argparse.Namespace) -> None:
    try:
        with open(args.file, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise CliError(f"{args.file}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise CliError(f"{args.file}: not a JSON export ({err})") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) and isinstance(d.get("id"), str) for d in data):
        raise CliError(f"{args.file}: not a JSON export (expected a list of papers with ids)")
    for n, item in enumerate(data, 1):
        tags = item.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise CliError(f"{args.file}: not a JSON export (paper {n}: tags must be a list of strings)")
        for key in ("title", "abstract", "note", "link", "bookmarked_at", "read_at", "first_seen"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise CliError(f"{args.file}: not a JSON export (paper {n}: {key} must be text)")
        if not item["id"].strip():
            raise CliError(f"{args.file}: not a JSON export (paper {n} has an empty id)")
    store = Store(args.db)
    for item in data:
        cleaned = {k: _safe(v) if isinstance(v, str) else v for k, v in item.items()}
        cleaned["tags"] = [clean_line(str(t)) for t in item.get("tags") or []]
        store.merge(cleaned)
    print(f"imported {len(data)} papers into {store.path}")


def cmd_doctor(args: argparse.Namespace) -> int:
    from reader import doctor

    store_path = Path(args.db) if args.db else default_path()
    checks = doctor.run_checks(store_path, os.environ)
    sys.stdout.write(_safe(doctor.report(checks)))
    return 1 if any(check.status == doctor.PROBLEM for check in checks) else 0


def cmd_config(args: argparse.Namespace) -> None:
    from reader.config import config_path

    print(config_path())


def cmd_completions(args: argparse.Namespace) -> None:
    sys.stdout.write(script(args.shell, build_parser()))


def cmd_open(args: argparse.Namespace) -> int:
    config = load_config()
    paths = list(args.paths) or ([config.digests] if config.digests else [bundled_digest()])
    # Every file is read and checked here, so its errors end the command before the UI starts.
    builder = IndexBuilder.start_for(paths, args.encoding)  # started now, ready by the time the first papers are
    try:
        loader = LibraryLoader(paths, args.encoding)
    except DigestError:
        if builder is not None:
            builder.close()
        raise
    from reader.app import run_app

    if loader.size > STREAM_ABOVE:
        return run_app(Library(), args.db, readonly=args.readonly, loader=loader, config=config, builder=builder)
    if builder is not None:
        builder.close()
    library = loader.load()
    for warning in library.warnings:
        print(f"{PROG}: warning: {_safe(warning)}", file=sys.stderr)
    return run_app(library, args.db, readonly=args.readonly, config=config)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = _normalize_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    handlers = {
        "open": cmd_open,
        "list": cmd_list,
        "search": cmd_search,
        "show": cmd_show,
        "bookmark": cmd_bookmark,
        "tag": cmd_tag,
        "note": cmd_note,
        "export": cmd_export,
        "import": cmd_import,
        "doctor": cmd_doctor,
        "config": cmd_config,
        "completions": cmd_completions,
    }
    try:
        status = handlers[args.command](args)
        sys.stdout.flush()
        return int(status or 0)
    except (DigestError, StoreError, UnknownPaper, CliError, ConfigError) as err:
        message = err.args[0] if isinstance(err, (UnknownPaper, CliError, ConfigError)) else str(err)
        print(f"{PROG}: error: {_safe(message)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of our output went away (| head): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
