"""Only public Textual API: no private attribute of a Textual class is read, set or overridden.

Textual's private names change between releases without notice; using none of them keeps
moving the Textual pin a one-line change (plus refreshed snapshots).
"""

from __future__ import annotations

import inspect
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
ATTRIBUTE = re.compile(r"(?<!\bos)\.(_[A-Za-z]\w*)\b")  # os._exit is the standard library's
ASSIGNED = re.compile(r"self\.(_[A-Za-z]\w*)\s*[:=]")
OVERRIDE = re.compile(r"^[ \t]+(?:async[ \t]+)?def\s+(_[A-Za-z]\w*)\s*\(", re.MULTILINE)
DEFINED = re.compile(r"def\s+(_[A-Za-z]\w*)\s*\(")


SUBCLASSED = CLASSES[:9]  # the Textual classes our widgets, screens and app derive from


def _textual_private(classes: list[type] = CLASSES) -> set[str]:
    names: set[str] = set()
    for cls in classes:
        for klass in cls.__mro__:
            if klass.__module__.startswith("textual"):
                names.update(n for n in vars(klass) if n.startswith("_") and not n.startswith("__"))
                # and the private attributes its methods set on instances (self._clipboard = ...)
                names.update(ASSIGNED.findall(inspect.getsource(klass)))
    return names


def _sources() -> list[Path]:
    """The files that use Textual (the others cannot touch a Textual object)."""
    paths = sorted([*(ROOT / "reader").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])
    return [p for p in paths if "textual" in p.read_text(encoding="utf-8") and p.name != Path(__file__).name]


def test_no_private_textual_attribute_is_used_or_overridden():
    private = _textual_private()
    overridable = _textual_private(SUBCLASSED)
    assert {"_forward_event", "_notifications"} <= private and {"_on_key", "_clipboard"} <= overridable
    sources = {path: path.read_text(encoding="utf-8") for path in _sources()}
    ours = set()
    for source in sources.values():
        ours.update(DEFINED.findall(source))
        ours.update(set(ASSIGNED.findall(source)) - overridable)
    found = []
    for path, source in sources.items():
        used = (set(ATTRIBUTE.findall(source)) - ours) & private  # read or called on a Textual object
        set_or_overridden = (set(ASSIGNED.findall(source)) | set(OVERRIDE.findall(source))) & overridable
        for name in sorted(used | set_or_overridden):
            found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == []
