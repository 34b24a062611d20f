"""The embedded local AWS: moto's server plus the adapters that make it run Siren's real template.

``siren local up`` deploys the synthesized CloudFormation template, the same state machine definitions and the
same handler code that ship to AWS. Each module here adapts one gap of moto (see ../shared/notes and the
module docstrings); each has a canary test in tests/local/ so that a moto upgrade fails loudly.
"""
