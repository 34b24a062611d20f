"""Pure domain logic: no I/O, no AWS clients, no environment reads."""
