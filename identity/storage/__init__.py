"""Storage back ends of the identity core (SQLite, Redis, memory)."""
