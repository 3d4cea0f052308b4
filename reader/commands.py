"""Every command of the app as plain data: its keys, palette title, help text and footer place.

One table makes the key bindings, the command palette, the help screen, the footer and the
README's Keys table, so a ``[keys]`` override in the config file shows in all of them. It
knows nothing of Textual, so the config checker can import ``ACTIONS`` without the UI.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One thing the user can do.

    ``action`` is the name used in the config's ``[keys]`` table; ``keys`` the default keys
    (Textual key names or single characters, comma-separated; empty: palette only).
    ``scope`` is where the binding lives: ``main`` (the main screen), ``list`` (the paper
    list), ``search`` (the search box) or ``app``. ``call`` is the Textual action run, when
    it is not ``action`` itself. ``title`` puts it in the command palette; ``footer`` (a
    short label) and ``rank`` (lower shows first, and stays longest as the terminal narrows)
    put it in the footer.
    """

    action: str
    keys: str
    help: str
    section: str
    scope: str = "main"
    title: str = ""
    footer: str = ""
    rank: int = 0
    call: str = ""
    rebindable: bool = True

    @property
    def binding_id(self) -> str:
        """The Textual binding id (what ``App.set_keymap`` overrides)."""
        return f"{self.scope}.{self.action}"


SAVED_SEARCH_KEYS = ",".join(str(n) for n in range(1, 10))

COMMANDS: tuple[Command, ...] = (
    # -- search box
    Command("focus_search", "/", "search: typing filters as you type", "Search", footer="search", rank=1),
    Command(
        "to_list",
        "enter,down",
        "(search box) go to the list, top result selected",
        "Search",
        scope="search",
        call="screen.to_list(True)",
        footer="to list",
        rank=1,
    ),
    Command(
        "back_to_list",
        "escape",
        "(search box) back to the list, keeping the query",
        "Search",
        scope="search",
        call="screen.to_list(False)",
        footer="back",
        rank=2,
    ),
    Command(
        "next_result",
        "ctrl+n,ctrl+j",
        "(search box) select the next result, as in fzf",
        "Search",
        scope="search",
        call="screen.move_selection(1)",
        footer="next",
        rank=3,
    ),
    Command(
        "previous_result",
        "ctrl+p,ctrl+k",
        "(search box) select the previous result, as in fzf",
        "Search",
        scope="search",
        call="screen.move_selection(-1)",
        footer="previous",
        rank=4,
    ),
    # -- the list
    Command("cursor_down", "j,down", "next paper (selecting a paper marks it read)", "Move", scope="list"),
    Command("cursor_up", "k,up", "previous paper; at the top, back to the search box", "Move", scope="list"),
    Command("first", "g,home", "first paper", "Move", scope="list"),
    Command("last", "G,end", "last paper", "Move", scope="list"),
    Command("page_up", "pageup", "a page up", "Move", scope="list"),
    Command("page_down", "pagedown", "a page down", "Move", scope="list"),
    Command("open", "enter", "read the selected paper in the detail pane", "Move", scope="list"),
    Command("focus_next", "tab", "move between search, list and detail", "Move", scope="textual", rebindable=False),
    Command("clear_query", "escape", "(list) clear the search", "Move", scope="list"),
    # -- one paper, or the marked ones
    Command("bookmark", "b", "bookmark on/off", "Paper", title="Bookmark paper", footer="bookmark", rank=3),
    Command(
        "bookmarks_only",
        "B",
        "bookmarks only, including bookmarks from earlier digests (shown in italics)",
        "Paper",
        title="Bookmarks only",
        footer="bookmarks",
        rank=8,
    ),
    Command(
        "tags",
        "t",
        "edit tags (enter adds, delete/x removes the highlighted tag, escape closes)",
        "Paper",
        title="Edit tags",
        footer="tags",
        rank=4,
    ),
    Command("tag_filter", "#", "filter by tag, from a list of tags with counts", "Paper", title="Filter by tag …"),
    Command(
        "note",
        "n",
        "edit the note (saved on close, and after a second without typing)",
        "Paper",
        title="Edit note",
        footer="note",
        rank=9,
    ),
    Command("copy_link", "y", "copy the primary link", "Paper", title="Copy link", footer="copy", rank=5),
    Command(
        "copy_choose",
        "Y",
        "copy a chosen link, the title, a Markdown link or a BibTeX entry",
        "Paper",
        title="Copy …",
    ),
    Command(
        "open_link",
        "o",
        "open the primary link in the browser (over SSH or with no browser it copies the link instead)",
        "Paper",
        title="Open link",
        footer="open",
        rank=6,
    ),
    Command(
        "similar",
        "s",
        "more like this: the papers most similar to this one (TF-IDF); escape goes back",
        "Paper",
        title="More like this",
        footer="similar",
        rank=10,
    ),
    Command(
        "cycle_sort",
        "S",
        "sort: relevance, file order, title, first seen, bookmarked time, upvotes, date (the border shows it)",
        "Paper",
        title="Next sort order",
        footer="sort",
        rank=12,
    ),
    Command(
        "set_link",
        "L",
        "set the paper's own link, shown and exported first",
        "Paper",
        title="Own link …",
    ),
    Command(
        "remove_filter",
        "x",
        "remove the last filter chip (or click a chip)",
        "Paper",
        title="Remove the last filter",
    ),
    # -- daily triage
    Command(
        "read_on",
        "space",
        "read on: scroll the abstract, then go to the next unread paper",
        "Triage",
        title="Read on",
        footer="read on",
        rank=7,
    ),
    Command("mark_all_read", "R", "mark every paper shown as read", "Triage", title="Mark all shown read"),
    Command(
        "mark",
        "v",
        "mark a paper for bulk actions; b, t, y, Y act on all marked papers",
        "Triage",
        title="Mark paper",
        footer="mark",
        rank=11,
    ),
    Command("clear_marks", "V", "clear the marks", "Triage", title="Clear marks"),
    Command("mark_unread", "U", "mark the selected (or marked) papers unread", "Triage", title="Mark unread"),
    Command(
        "undo",
        "u",
        "undo bookmark, tag, note, link and read-mark changes, several steps, across restarts",
        "Triage",
        title="Undo",
        footer="undo",
        rank=13,
    ),
    Command("redo", "ctrl+r", "redo what was undone", "Triage", title="Redo"),
    Command("save_search", "ctrl+s", "save the current search under a name", "Triage", title="Save search …"),
    Command(
        "saved_searches",
        "",
        "saved searches: recall, rename or delete one (palette only)",
        "Triage",
        title="Saved searches …",
        rebindable=False,
    ),
    Command(
        "saved_search",
        SAVED_SEARCH_KEYS,
        "recall saved search 1 … 9",
        "Triage",
        call="saved_search({key})",
        rebindable=False,
    ),
    Command(
        "export",
        "E",
        "export bookmarked, marked, shown or tagged papers, any format, to a folder you pick",
        "App",
        title="Export papers: bookmarked, marked, shown or tagged …",
    ),
    # -- the app
    Command("refresh", "ctrl+l", "refresh: show changes made in another terminal", "App", title="Refresh"),
    Command(
        "command_palette",
        "ctrl+p,colon",
        "command palette: every action, export, themes (in the search box ctrl+p moves up: use escape first)",
        "App",
        scope="app",
        footer="palette",
        rank=14,
    ),
    Command(
        "help", "?", "help: keys and query language (escape or ? closes it)", "App", title="Help", footer="help", rank=0
    ),
    Command("quit", "q", "quit", "App", call="app.quit", footer="quit", rank=0),
)

BY_ACTION: dict[str, Command] = {c.action: c for c in COMMANDS}

# Each saved-search key is its own binding (saved_search_1 … saved_search_9), so each can move.
_PER_KEY = {f"saved_search_{n}": f"{BY_ACTION['saved_search'].binding_id}_{n}" for n in range(1, 10)}

ACTIONS: tuple[str, ...] = (*(c.action for c in COMMANDS if c.rebindable), *_PER_KEY)
"""The action names a config file's ``[keys]`` table may rebind."""

KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "number_sign": "#",
    "colon": ":",
    "exclamation_mark": "!",
    "comma": ",",
    "full_stop": ".",
    "minus": "-",
    "plus": "+",
}


def key_label(key: str) -> str:
    """A key as the user types it: ``question_mark`` → ``?``, ``ctrl+r`` stays."""
    return KEY_NAMES.get(key.strip(), key.strip())


def keys_of(command: Command, overrides: Mapping[str, str] | None = None) -> list[str]:
    """The keys that run ``command``, after the config's ``[keys]`` overrides."""
    keys = command.keys
    if overrides and command.rebindable and command.action in overrides:
        keys = overrides[command.action]
    return [key_label(k) for k in keys.split(",") if k.strip()]


def keys_text(command: Command, overrides: Mapping[str, str] | None = None) -> str:
    """The keys of ``command`` for people: ``j, down``; ``1 … 9`` for the saved searches."""
    if command.action == "saved_search":
        return "1 … 9"
    return ", ".join(keys_of(command, overrides))


# Scopes whose bindings are live together: the search box and the list are never focused at
# once, so their keys may overlap (enter, escape, down do); every other pair shares a context.
_APART = frozenset({"list", "search"})
# Keys that quit whatever is focused (priority bindings outside the table: ours, Textual's).
RESERVED_KEYS = {"ctrl+c": "quit", "ctrl+q": "quit"}
_SHORT_NAMES = {"slash": "/", "backslash": "\\", "at": "@", "minus": "-", "plus": "+", "underscore": "_"}


def _same_key(key: str) -> str:
    """One spelling per key, so ``?`` and ``question_mark``, ``#`` and ``number_sign`` compare equal."""
    *modifiers, name = key.strip().split("+") if len(key.strip()) > 1 else [key]
    if len(name) > 1:
        try:
            char = _SHORT_NAMES.get(name) or unicodedata.lookup(name.replace("_", " "))
        except KeyError:
            char = name
        name = char if len(char) == 1 and char.isprintable() and not char.isspace() else name
    return "+".join([*modifiers, name])


def _key_owners(overrides: Mapping[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Each key (one spelling) → the (action, scope) pairs it runs, after ``overrides``."""
    owners: dict[str, list[tuple[str, str]]] = {}
    for command in COMMANDS:
        if command.action == "saved_search":  # one action a key: saved_search_1 … saved_search_9
            for key in command.keys.split(","):
                action = f"saved_search_{key}"
                for k in overrides.get(action, key).split(","):
                    owners.setdefault(_same_key(k), []).append((action, command.scope))
            continue
        for key in keys_of(command, overrides):
            owners.setdefault(_same_key(key), []).append((command.action, command.scope))
    return owners


def _share_context(scope: str, other: str) -> bool:
    return {scope, other} != _APART


def key_clashes(overrides: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Keys the config's ``[keys]`` gives to two actions that are live at the same time.

    Returns (action, key, other action), once a pair, naming an action the config moved
    (the later one when it moved both). Overlaps the defaults have on purpose (``ctrl+p``
    moves up in the search box, opens the palette elsewhere) are not clashes; moving the
    other action off the key in the same config is the way to take a key.
    """
    defaults = _key_owners({})
    owners = _key_owners(overrides)
    order = {action: n for n, action in enumerate(overrides)}
    clashes = []
    for key, actions in owners.items():
        taken = [(RESERVED_KEYS[key], "app")] if key in RESERVED_KEYS else []
        for a, (action, scope) in enumerate(actions + taken):
            for other, other_scope in (actions + taken)[:a]:
                if other == action or not _share_context(scope, other_scope):
                    continue
                default = {action, other} <= {name for name, _ in defaults.get(key, [])} or (
                    key in RESERVED_KEYS and action == other
                )
                if default or (action not in order and other not in order):
                    continue
                first, second = sorted((action, other), key=lambda name: order.get(name, -1))
                clashes.append((second, key, first))
    return sorted(clashes, key=lambda clash: order.get(clash[0], len(order)))


def keymap(overrides: Mapping[str, str]) -> dict[str, str]:
    """The config's ``[keys]`` as a Textual keymap: binding id → keys."""
    ids = {**{c.action: c.binding_id for c in COMMANDS if c.rebindable}, **_PER_KEY}
    return {ids[action]: keys for action, keys in overrides.items() if action in ids}


def sections() -> Iterator[tuple[str, list[Command]]]:
    """The commands grouped by help section, in table order."""
    seen: dict[str, list[Command]] = {}
    for command in COMMANDS:
        seen.setdefault(command.section, []).append(command)
    yield from seen.items()


def readme_keys_table() -> str:
    """The README's Keys table, made from this table (the action is the name ``[keys]`` rebinds)."""
    lines = ["| Key | Action | What it does |", "| --- | --- | --- |"]
    for command in COMMANDS:
        keys = keys_text(command)
        shown = " ".join(f"`{k}`" for k in keys.split(", ")) if keys else "(palette)"
        if command.action == "saved_search":
            shown = "`1`…`9`"
        action = f"`{command.action}`" if command.rebindable else ""
        lines.append(f"| {shown} | {action} | {command.help} |")
    return "\n".join(lines)
