"""Command groups of the ``lstmlens`` CLI; each module exposes ``register(app)``."""
