"""cdk-nag's AwsSolutions pack on every synth. Every acknowledgement says why it is right for Siren.

cdk-nag 3 reports through CDK's policy validation: an unacknowledged finding fails ``app.synth()``.
Acknowledgements sit on the narrowest construct that needs them (see the constructs); the ones here hold
for the whole stack.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnElement, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

# None today: every acknowledgement sits on the construct it is about (a queue added later without a DLQ must be
# flagged, not covered by a stack-wide acknowledgement).
STACK_ACKNOWLEDGEMENTS: dict[str, str] = {}


def apply_nag(app: App, stack: Stack) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    for rule_id, reason in STACK_ACKNOWLEDGEMENTS.items():
        Validations.of(stack).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on one construct (and its children), with the reason."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def logical_id(construct: IConstruct) -> str:
    resource = construct.node.default_child
    assert isinstance(resource, CfnElement)
    stack = Stack.of(resource)
    return str(stack.resolve(stack.get_logical_id(resource)))


def acknowledge_invoke_versions(grantee: IConstruct, functions: list[IConstruct], reason: str) -> None:
    """``grant_invoke`` adds ``<function arn>:*`` (its versions and aliases): the functions themselves only."""
    for function in functions:
        acknowledge(grantee, f"AwsSolutions-IAM5[Resource::<{logical_id(function)}.Arn>:*]", reason)
