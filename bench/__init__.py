"""``make bench``: named figures measured on the real path, printed and written to .bench/latest.json."""
