"""The ``siren`` command line: operate incidents and the embedded local AWS."""
