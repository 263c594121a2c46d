"""The reminders feature: subscribe to reminders, list upcoming events, stop.

- ``dialogue``: the subscription dialogue, declared on the form engine (``handlers.forms``);
- ``scheduling``: which reminder is due when, queued in the outbox; matching events to
  subscribers.
"""

from handlers.reminders.dialogue import RemindersFeature, feature

__all__ = ["RemindersFeature", "feature"]
