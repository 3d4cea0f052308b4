"""Keys typed faster than focus moves go where the user meant them.

Textual queues each key on the widget focused when the key arrived. In a fast
burst (``/neural`` ⏎ ``b``, typed or pasted), keys after the one that moved
focus are already queued on the old widget, so the widget that moves focus does
it itself, at once, in key order, and hands any later keys on to the widget that
now has focus: ``n`` is typed into the search box instead of opening the note
editor, and ``b`` bookmarks the top result instead of landing in the query.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget


def redirect_key(widget: Widget, event: events.Key) -> bool:
    """Send ``event`` on to the focused widget when ``widget`` lost focus; True if it did."""
    target = widget.app.focused
    if target is None or target is widget or target.screen is not widget.screen:
        return False
    event.prevent_default()
    event.stop()
    target._forward_event(events.Key(event.key, event.character))
    return True


async def move_focus(widget: Widget, event: events.Key, moves: dict[str, str]) -> bool:
    """Run the action ``moves`` maps this key to, now rather than when the key bubbles up."""
    action = moves.get(event.key)
    if action is None:
        return False
    event.prevent_default()
    event.stop()
    await widget.run_action(action)
    return True
