"""One construct per concern of the Siren stack."""
