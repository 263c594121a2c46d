"""Thin transports: map a platform's updates to ``Incoming`` and ``Reply`` to its API."""
