"""Only public Textual API: no private attribute of a Textual class is read, set or overridden.

Textual's private names change between releases without notice; using none of them keeps
moving the Textual pin a one-line change (plus refreshed snapshots).
"""

from __future__ import annotations

import re
from pathlib import Path

import textual.app
import textual.command
import textual.containers
import textual.screen
import textual.scroll_view
import textual.widget
import textual.widgets

ROOT = Path(__file__).resolve().parent.parent
CLASSES = [
    textual.app.App,
    textual.screen.Screen,
    textual.screen.ModalScreen,
    textual.widget.Widget,
    textual.scroll_view.ScrollView,
    textual.containers.VerticalScroll,
    textual.containers.Horizontal,
    textual.widgets.Input,
    textual.widgets.Static,
    textual.widgets.OptionList,
    textual.widgets.TextArea,
    textual.widgets.Footer,
    textual.command.CommandPalette,
]
ATTRIBUTE = re.compile(r"\.(_[A-Za-z]\w*)\b")
DEFINED = re.compile(r"(?:def\s+|self\.|cls\.)(_[A-Za-z]\w*)\s*[(:=]")
OVERRIDE = re.compile(r"^\s+(?:async\s+)?def\s+(_[A-Za-z]\w*)\s*\(", re.MULTILINE)


def _textual_private() -> set[str]:
    names: set[str] = set()
    for cls in CLASSES:
        for klass in cls.__mro__:
            if klass.__module__.startswith("textual"):
                names.update(n for n in vars(klass) if n.startswith("_") and not n.startswith("__"))
    return names


def _sources() -> list[Path]:
    """The files that use Textual (the others cannot touch a Textual object)."""
    paths = sorted([*(ROOT / "reader").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])
    return [p for p in paths if "textual" in p.read_text(encoding="utf-8") and p.name != Path(__file__).name]


def test_no_private_textual_attribute_is_used_or_overridden():
    private = _textual_private()
    assert "_forward_event" in private and "_on_key" in private  # the check sees Textual's privates
    ours = set()
    for path in _sources():
        ours.update(DEFINED.findall(path.read_text(encoding="utf-8")))
    found = []
    for path in _sources():
        source = path.read_text(encoding="utf-8")
        used = set(ATTRIBUTE.findall(source)) - (ours - set(OVERRIDE.findall(source)))
        overridden = set(OVERRIDE.findall(source))
        for name in sorted((used | overridden) & private):
            found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == []
