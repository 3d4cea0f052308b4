"""Textual key bindings made from the command table (reader.commands), one scope at a time.

It sits with the widgets because it is UI: the table itself stays Textual-free.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from reader.commands import COMMANDS, Command


def _call(command: Command, key: str) -> str:
    return (command.call or command.action).format(key=key)


def bindings_for(scope: str) -> list[BindingType]:
    """The bindings of one scope (``main``, ``list``, ``search``, ``app``), ids ``scope.action``.

    None is shown by Textual's footer: the key bar (reader.widgets.key_bar) shows the ones
    that matter most from the same table. A command whose keys each run it with an argument
    (the saved searches ``1``…``9``) gets one binding per key.
    """
    out: list[BindingType] = []
    for command in COMMANDS:
        if command.scope != scope or not command.keys:
            continue
        if "{key}" in command.call:
            for key in command.keys.split(","):
                out.append(
                    Binding(key, _call(command, key), command.help, show=False, id=f"{command.binding_id}_{key}")
                )
        else:
            out.append(Binding(command.keys, _call(command, ""), command.help, show=False, id=command.binding_id))
    return out
