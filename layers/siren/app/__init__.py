"""Use cases: read through the store, decide with the domain, write through the store. Handlers and the CLI
call these; they hold no business rules of their own."""
