"""The ``paper-reader`` command line: open the app, or list/search/show/annotate/export papers."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from reader import __version__
from reader.collection import Collection, UnknownPaper
from reader.completions import SHELLS, script
from reader.config import ConfigError, check_config, load_config
from reader.core.importing import ImportProblem
from reader.core.library import OpenLibrary
from reader.core.opening import default_digests, locate, open_library
from reader.core.saved_searches import SavedSearchError
from reader.digest import STDIN, DigestError, Library, LibraryLoader, bundled_digest
from reader.export import FORMATS, export
from reader.index.build import IndexBuilder
from reader.index.segments import SegmentCache
from reader.paper import Paper
from reader.sorting import SORTS
from reader.sources import fetch
from reader.sources.decoding import EncodingProblem, text_encoding
from reader.sources.stdin import keys_from_terminal
from reader.store import Store, StoreError, default_path, take_warnings
from reader.text import clean_line, inert

PROG = "paper-reader"
# Digests bigger than this (in characters) are parsed on a worker while the app shows the first papers.
STREAM_ABOVE = 4_000_000
COMMANDS = (
    "list",
    "search",
    "show",
    "bookmark",
    "tag",
    "note",
    "link",
    "read",
    "unread",
    "undo",
    "redo",
    "searches",
    "export",
    "import",
    "merge",
    "doctor",
    "config",
    "completions",
    "fetch",
)


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
    """``--limit``: a whole number, 0 or more; anything else is one line saying so."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise CliError(f"--limit {_safe(text)}: give a whole number, 0 or more (0: all)")
    return value


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line, ``paper-reader: error: …`` and exit 2, as every other error
    (not a usage block); its subparsers are of this class too. ``--help`` is unchanged."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {' '.join(_safe(message).split())}\n")


def _check_args(args: argparse.Namespace) -> None:
    """What argparse cannot check alone: empty paths, stdin named twice, fetch's dates and category."""
    file = getattr(args, "file", None)
    named = [*(getattr(args, "paths", None) or []), *(file if isinstance(file, list) else [file] if file else [])]
    for option in ("db", "to"):
        if getattr(args, option, None) == "":
            raise CliError(f"--{option}: an empty path; name a file or folder")
    if "" in named or file == "":
        raise CliError("an empty path was given; name a digest file or folder ('.' for this folder)")
    if named.count(STDIN) > 1:
        raise CliError(f"{STDIN}: the standard input can be read once; give - once")
    if args.command == "fetch":
        today = dt.datetime.now(dt.UTC).date()
        if args.since is not None and args.since > today:
            raise CliError(f"--since {args.since} is in the future; give a date up to {today}")
        if args.arxiv is not None and not args.arxiv.strip(" ,"):
            raise CliError("--arxiv: give a category (cs.LG; several: cs.LG,cs.CL)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = Parser(
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
    p.add_argument("paths", nargs="*", metavar="PATH", help="digests (default: the config's digests folder)")
    p.add_argument("--sort", choices=SORTS, default="file", help="order (default: file order)")
    p.add_argument("--json", action="store_true", help="JSON Lines: one JSON object per paper, per line")
    _add_common(p)

    p = sub.add_parser(
        "search",
        help="ranked papers for a query: id<TAB>score<TAB>title (then, when few match every word, "
        "papers lacking one with a fourth column: missing: WORD)",
    )
    p.add_argument("query", help="the query language of the app: words, 'exact, #tag, is:, has:, rank:tag ...")
    p.add_argument("paths", nargs="*", metavar="PATH", help="digests (default: the config's digests folder)")
    p.add_argument("--limit", default="20", metavar="N", help="at most N papers (0: all; default 20)")
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON Lines: one JSON object per paper, per line (export --format json writes one array)",
    )
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
        ("link", "set a paper's own link, shown and exported first ('' clears it)"),
        ("read", "mark papers read (an undo step)"),
        ("unread", "mark papers unread (an undo step)"),
    ):
        p = sub.add_parser(name, help=helptext)
        if name in ("read", "unread"):
            p.add_argument("ids", nargs="+", metavar="ID")
        else:
            p.add_argument("id")
        if name == "bookmark":
            p.add_argument("--off", action="store_true", help="remove the bookmark")
        elif name == "tag":
            p.add_argument("tags", nargs="+", metavar="TAG")
            p.add_argument("--remove", action="store_true", help="remove these tags")
        elif name == "note":
            p.add_argument("text")
        elif name == "link":
            p.add_argument("url")
        p.add_argument(
            "--file",
            action="append",
            default=[],
            metavar="PATH",
            help="digest to look the id up in (repeatable); the store is looked in first, then these, "
            "then the config's digests folder, then the bundled sample",
        )
        _add_common(p)

    for name, helptext in (("undo", "undo the last change (the app's u)"), ("redo", "redo what was undone")):
        p = sub.add_parser(name, help=helptext)
        _add_common(p)

    p = sub.add_parser("searches", help="saved searches: list (default), save NAME QUERY, rename, delete")
    p.add_argument("action", nargs="?", choices=["list", "save", "rename", "delete"], default="list")
    p.add_argument("args", nargs="*", metavar="ARG", help="save NAME QUERY · rename NAME|N NEW · delete NAME|N")
    _add_common(p)

    p = sub.add_parser("export", help="export annotated papers from the store to stdout (json: one array)")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        help="json (the default) is one array; search/list --json write JSON Lines instead",
    )
    p.add_argument("--bookmarked", action="store_true", help="only bookmarked papers")
    p.add_argument("--tag", action="append", default=[], metavar="T", help="only papers with this tag")
    _add_common(p)

    p = sub.add_parser("import", help="merge a JSON export into the store (nothing is dropped)")
    p.add_argument("file")
    _add_common(p)

    p = sub.add_parser("merge", help="fold another copy of the store (a sync tool's conflict copy) into it")
    p.add_argument("file")
    _add_common(p)

    p = sub.add_parser("doctor", help="check the clipboard paths, the store and its backup, the config")
    _add_common(p)

    p = sub.add_parser("config", help="'config path' prints where the config file is read from")
    p.add_argument("action", choices=["path"])

    p = sub.add_parser("fetch", help="fetch the day's trending papers into the digests folder")
    fetch.add_arguments(p)

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


def _warn(library: OpenLibrary) -> None:
    for warning in library.collection.library.warnings:
        print(f"{PROG}: warning: {_safe(warning)}", file=sys.stderr)


def _digests(paths: Sequence[str]) -> list[str | os.PathLike[str]]:
    """The digests named, else the config's digests folder, else the bundled sample (as plain paper-reader)."""
    return list(paths) or default_digests(load_config())


# Libraries opened by this command whose new segments are cached once its answer is out (see main).
_TO_CACHE: list[OpenLibrary] = []


def _open(args: argparse.Namespace, paths: Sequence[str], index: bool = True) -> OpenLibrary:
    """The digests with the store, read-only: listing and searching never write (but the index cache)."""
    library = open_library(_digests(paths), Store(args.db, readonly=True), args.encoding, index=index, save=False)
    _TO_CACHE.append(library)
    _warn(library)
    return library


def _json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def _summary(library: OpenLibrary, paper: Paper, score: float | None = None) -> dict[str, Any]:
    """One paper as a line of ``list --json`` / ``search --json``."""
    data = library.paper_data(paper)
    out: dict[str, Any] = {"id": paper.id, "title": paper.title}
    if paper.public_id != paper.id:
        out["arxiv_id"] = paper.public_id
    if score is not None:
        out["score"] = round(score, 3)
    out.update(
        tags=data["tags"],
        bookmarked=data["bookmarked"],
        read=library.is_read(paper),
        first_seen=data["first_seen"],
        links=data["links"],
    )
    return out


def cmd_list(args: argparse.Namespace) -> None:
    library = _open(args, args.paths, index=False)
    found = library.search("", args.sort)
    out = sys.stdout
    for index in found.rows.tolist():
        paper = library.papers[index]
        out.write(_json_line(_summary(library, paper)) + "\n" if args.json else f"{paper.public_id}\t{paper.title}\n")


def cmd_search(args: argparse.Namespace) -> None:
    limit = _count(args.limit) or None
    library = _open(args, args.paths)
    found = library.search(args.query, args.sort)
    for warning in found.warnings:
        print(f"{PROG}: warning: {_safe(warning)}", file=sys.stderr)
    for index, score in zip(found.rows[:limit].tolist(), found.scores[:limit].tolist()):
        paper = library.papers[index]
        if args.json:
            print(_json_line({**_summary(library, paper, score), "partial": False}))
        else:
            print(f"{paper.public_id}\t{score:.2f}\t{paper.title}")
    # Papers matching all the query's words but one (when few match them all): after the
    # others, each with the word it lacks ("partial": true and "missing" in JSON, a fourth column).
    room = None if limit is None else max(0, limit - len(found.rows))
    partial = zip(found.partial[:room].tolist(), found.partial_scores[:room].tolist(), found.missing[:room])
    for index, score, missing in partial:
        paper = library.papers[index]
        if args.json:
            print(_json_line({**_summary(library, paper, score), "partial": True, "missing": missing}))
        else:
            print(f"{paper.public_id}\t{score:.2f}\t{paper.title}\tmissing: {missing}")


def cmd_show(args: argparse.Namespace) -> None:
    library = _open(args, args.paths, index=False)
    paper = library.find(args.id)
    data = library.paper_data(paper)
    if args.json:
        print(_json_line(data))
        return
    lines = [paper.title, f"id: {paper.public_id}" + (f" (also {paper.id})" if paper.public_id != paper.id else "")]
    if paper.meta is not None and paper.meta.authors:
        lines.append("authors: " + _safe(", ".join(paper.meta.authors)))
    dates = [f"{name} {data[name]}" for name in ("published", "submitted") if data[name]]
    votes = [f"{data['upvotes']} upvotes"] if data["upvotes"] is not None else []
    if dates or votes:
        lines.append(" · ".join(dates + votes))
    if data["bookmarked"]:
        lines.append(f"bookmarked: {data['bookmarked_at']}")
    if data["first_seen"]:
        lines.append(f"first seen: {data['first_seen']}")
    tags = library.tags(paper)
    if tags:
        lines.append("tags: " + ", ".join(_safe(t) for t in tags))
    note = library.note(paper)
    if note:
        lines.append("note: " + _safe(note))
    lines.append("links:")
    lines.extend(f"  [{n}] {link.url}" for n, link in enumerate(library.links(paper), 1))
    lines.extend(["", paper.abstract or "(no abstract)"])
    print("\n".join(lines))


def _target(args: argparse.Namespace, pid: str | None = None) -> tuple[OpenLibrary, Paper]:
    """The paper to annotate: from the store, else the --file digests, the config's folder, the sample."""
    store = Store(args.db)
    config_digests = default_digests(load_config())
    sources = [args.file, config_digests] if config_digests != [bundled_digest()] else [args.file]
    sources.append([bundled_digest()])
    return locate(pid or args.id, store, sources, args.encoding)


def _describe(paper: Paper) -> str:
    return f"{paper.public_id}\t{_safe(paper.title)}"


def cmd_bookmark(args: argparse.Namespace) -> None:
    library, paper = _target(args)
    library.set_bookmark([paper], not args.off)
    print(("unbookmarked" if args.off else "bookmarked") + f"\t{_describe(paper)}")


def cmd_tag(args: argparse.Namespace) -> None:
    library, paper = _target(args)
    before = library.tags(paper)
    if args.remove:
        library.remove_tags(paper, args.tags)
    else:
        library.add_tags([paper], args.tags)
    after = library.tags(paper)
    added = [t for t in after if t.casefold() not in {b.casefold() for b in before}]
    removed = [t for t in before if t.casefold() not in {a.casefold() for a in after}]
    change = " ".join([f"+{t}" for t in added] + [f"-{t}" for t in removed]) or "unchanged"
    print(f"tags {_safe(change)}\t{_describe(paper)}\t[{_safe(', '.join(after))}]")


def cmd_note(args: argparse.Namespace) -> None:
    library, paper = _target(args)
    library.set_note(paper, args.text)
    print(("note cleared" if not library.note(paper) else "note saved") + f"\t{_describe(paper)}")


def cmd_link(args: argparse.Namespace) -> None:
    library, paper = _target(args)
    library.set_link(paper, args.url)
    print(("link cleared" if not args.url.strip() else "link saved") + f"\t{_describe(paper)}")


def cmd_read(args: argparse.Namespace) -> None:
    read = args.command == "read"
    found = [_target(args, pid) for pid in args.ids]  # every id first: an unknown one changes nothing
    library = found[0][0]
    library.mark_read([paper for _, paper in found], read)  # one undo step for them all
    for _, paper in found:
        print(("read" if read else "unread") + f"\t{_describe(paper)}")


def cmd_undo(args: argparse.Namespace) -> None:
    library = OpenLibrary(Collection(Library(), Store(args.db), index=False))
    replayed = library.undo() if args.command == "undo" else library.redo()
    print(_safe(replayed.message))


def cmd_searches(args: argparse.Namespace) -> None:
    library = OpenLibrary(Collection(Library(), Store(args.db, readonly=args.action == "list"), index=False))
    try:
        if args.action == "list":
            for number, entry in enumerate(library.saved_searches(), 1):
                print(f"{number}\t{_safe(entry.name)}\t{_safe(entry.query)}")
        elif args.action == "save":
            name, query = _two(args, "save NAME QUERY")
            print(f"saved\t{library.save_search(name, query)}\t{_safe(name)}")
        elif args.action == "rename":
            which, name = _two(args, "rename NAME|NUMBER NEW-NAME")
            print(f"renamed\t{_safe(which)}\t{_safe(library.rename_search(which, name).name)}")
        else:
            if len(args.args) != 1:
                raise CliError("searches delete NAME|NUMBER: give one saved search")
            print(f"deleted\t{_safe(library.delete_search(args.args[0]).name)}")
    except SavedSearchError as err:
        raise CliError(str(err)) from None


def _two(args: argparse.Namespace, usage: str) -> tuple[str, str]:
    if len(args.args) != 2:
        raise CliError(f"searches {usage}: give two arguments")
    return args.args[0], args.args[1]


def cmd_export(args: argparse.Namespace) -> None:
    library = OpenLibrary(Collection(Library(), Store(args.db, readonly=True), index=False))
    papers = library.kept()
    if args.bookmarked:
        papers = [p for p in papers if library.is_bookmarked(p)]
    for tag in args.tag:
        wanted = tag.lstrip("#").casefold()
        papers = [p for p in papers if wanted in {t.casefold() for t in library.tags(p)}]
    sys.stdout.write(export([(p, library.annotation(p)) for p in papers], args.format))


def cmd_import(args: argparse.Namespace) -> None:
    library = OpenLibrary(Collection(Library(), Store(args.db), index=False))
    try:
        print(_safe(library.import_file(args.file).message))
    except ImportProblem as err:
        raise CliError(str(err)) from None


def cmd_merge(args: argparse.Namespace) -> None:
    from reader.store.merge import merge_copy

    print(_safe(merge_copy(Store(args.db), Path(args.file)).message))


def cmd_doctor(args: argparse.Namespace) -> int:
    from reader import doctor

    store_path = Path(args.db) if args.db else default_path()
    checks = doctor.run_checks(store_path, os.environ)
    sys.stdout.write(_safe(doctor.report(checks)))
    return 1 if any(check.status == doctor.PROBLEM for check in checks) else 0


def cmd_config(args: argparse.Namespace) -> None:
    from reader.config import config_path

    print(inert(str(config_path())))  # a path from the environment is shown, never acted on


def cmd_completions(args: argparse.Namespace) -> None:
    sys.stdout.write(script(args.shell, build_parser()))


def cmd_open(args: argparse.Namespace) -> int:
    config = load_config()
    paths = list(args.paths) or default_digests(config)
    # Every file is read and checked here, so its errors end the command before the UI starts.
    builder = IndexBuilder.start_for(paths, args.encoding)  # started now, ready by the time the first papers are
    try:
        loader = LibraryLoader(paths, args.encoding, segments=SegmentCache(), builder=builder)
    except DigestError:
        if builder is not None:
            builder.close()
        raise
    if STDIN in map(str, paths) and (problem := keys_from_terminal()):
        raise CliError(problem)
    from textual.theme import BUILTIN_THEMES

    from reader.app import run_app

    try:
        check_config(config, BUILTIN_THEMES)  # checked once Textual is imported, after the helper started
    except ConfigError:
        if builder is not None:
            builder.close()
        raise
    if loader.size > STREAM_ABOVE:
        return run_app(Library(), args.db, readonly=args.readonly, loader=loader, config=config, builder=builder)
    if builder is not None:
        builder.close()
        loader.builder = None
    library = loader.load()
    for warning in library.warnings:
        print(f"{PROG}: warning: {_safe(warning)}", file=sys.stderr)
    return run_app(library, args.db, readonly=args.readonly, config=config)


def _check_encoding(args: argparse.Namespace) -> None:
    """``--encoding`` must name a text encoding (not base64, hex, zlib, rot13): said before any file is read."""
    name = getattr(args, "encoding", None)
    if name is not None:
        try:
            text_encoding(name)
        except EncodingProblem as err:
            raise CliError(f"--encoding {name}: {err}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = _normalize_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    take_warnings()  # only what the stores this command opens say
    _TO_CACHE.clear()  # a command that failed before caching leaves nothing for the next
    handlers = {
        "open": cmd_open,
        "list": cmd_list,
        "search": cmd_search,
        "show": cmd_show,
        "bookmark": cmd_bookmark,
        "tag": cmd_tag,
        "note": cmd_note,
        "link": cmd_link,
        "read": cmd_read,
        "unread": cmd_read,
        "undo": cmd_undo,
        "redo": cmd_undo,
        "searches": cmd_searches,
        "export": cmd_export,
        "import": cmd_import,
        "merge": cmd_merge,
        "doctor": cmd_doctor,
        "config": cmd_config,
        "completions": cmd_completions,
        "fetch": fetch.run,
    }
    try:
        _check_encoding(args)
        _check_args(args)
        status = handlers[args.command](args)
        sys.stdout.flush()
        while _TO_CACHE:  # the answer is out: now cache what this command parsed, for the next one
            _TO_CACHE.pop().collection.library.save_segments()
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
    finally:
        for warning in take_warnings():  # fields of the store repaired on load
            print(f"{PROG}: warning: {_safe(warning)}", file=sys.stderr)
