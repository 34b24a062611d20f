"""Siren's CDK app: one stack, one construct per concern.

Before anything imports the CDK, its Node process's stderr is made readable (see infra/jsii_console.py).
"""

from infra import jsii_console

jsii_console.install()
