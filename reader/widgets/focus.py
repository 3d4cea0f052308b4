"""Keys typed faster than focus moves go where the user meant them.

Textual queues each key on the widget focused when the key arrived. In a fast
burst (``/neural`` ⏎ ``b``, typed or pasted), keys after the one that moved
focus are already queued on the old widget, so the widget that moves focus does
it itself, at once, in key order, and hands any later keys back to the app, which
sends them on to the widget that now has focus: ``n`` is typed into the search
box instead of opening the note editor, and ``b`` bookmarks the top result
instead of landing in the query. Only public Textual API is used: a key handed
back is a new ``events.Key`` posted to the app, as the terminal driver posts one.
"""

from __future__ import annotations

from collections.abc import Collection

from textual import events
from textual.widget import Widget


def redirect_key(widget: Widget, event: events.Key) -> bool:
    """Hand ``event`` back to the app when ``widget`` lost focus; True if it did."""
    target = widget.app.focused
    if target is None or target is widget or target.screen is not widget.screen:
        return False
    event.prevent_default()
    event.stop()
    widget.app.post_message(events.Key(event.key, event.character))
    return True


async def move_focus(widget: Widget, event: events.Key, actions: Collection[str]) -> bool:
    """Run the binding of this key now, if its action is one of ``actions`` (those that move focus).

    The binding is looked up in the screen's active bindings, so a ``[keys]`` override
    in the config applies here too.
    """
    active = widget.screen.active_bindings.get(event.key)
    if active is None or active.binding.action not in actions:
        return False
    event.prevent_default()
    event.stop()
    await widget.app.run_action(active.binding.action, active.node)
    return True
