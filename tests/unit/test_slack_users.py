"""siren.yaml maps Siren users to Slack members (``users[].slack``): the acting person of a Slack click or command.

GIVEN users with and without Slack member ids, WHEN siren.yaml is loaded, THEN each mapped member finds its user,
an unmapped member finds nobody, and an id that is not a Slack member id or is given to two users is a problem
named at its line. The mapping survives the JSON shipped to Lambda.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from siren.config import ConfigError, load_config, load_config_text
from siren.domain.policy import SirenConfig
from siren.domain.policy.users import user_for_slack

SHIPPED = Path(__file__).resolve().parents[2] / "siren.yaml"


def load(users: str) -> SirenConfig:
    return load_config_text("users:\n" + textwrap.indent(textwrap.dedent(users), "  "), "siren.yaml")


def problems(users: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(users)
    return [str(problem) for problem in raised.value.problems]


def test_a_slack_member_finds_its_user_and_an_unmapped_one_nobody() -> None:
    config = load(
        """
        alice: {email: alice@example.com, slack: U024BE7LH}
        bob: {email: bob@example.com, slack: W012A3CDE}
        carol: {email: carol@example.com}
        """
    )
    alice = user_for_slack(config.users, "U024BE7LH")
    bob = user_for_slack(config.users, "W012A3CDE")
    assert (alice and alice.id, bob and bob.id) == ("alice", "bob")
    assert config.users["carol"].slack is None
    assert user_for_slack(config.users, "U999NOBODY") is None


def test_the_mapping_survives_the_json_shipped_to_lambda() -> None:
    config = load("alice: {email: alice@example.com, slack: U024BE7LH}\n")
    shipped = SirenConfig.from_json(config.to_json())
    assert shipped.users["alice"].slack == "U024BE7LH"
    assert (
        "slack" not in SirenConfig.from_json(load("bob: {email: b@example.com}\n").to_json()).to_json()["users"]["bob"]
    )


@pytest.mark.parametrize("given", ["u024be7lh", "alice", "C024BE7LH", "U", "'<@U024BE7LH>'"])
def test_what_is_not_a_slack_member_id_is_a_problem(given: str) -> None:
    found = problems(f"alice: {{email: alice@example.com, slack: {given}}}\n")
    assert len(found) == 1 and "must be a Slack member id" in found[0] and "users.alice.slack" in found[0]


def test_one_slack_member_for_two_users_is_a_problem() -> None:
    found = problems(
        """
        alice: {email: alice@example.com, slack: U024BE7LH}
        bob: {email: bob@example.com, slack: U024BE7LH}
        """
    )
    assert len(found) == 1 and "users.bob.slack" in found[0] and "already user alice's" in found[0]


def test_the_shipped_users_each_have_their_own_slack_member_id() -> None:
    users = load_config(SHIPPED).users
    ids = [user.slack for user in users.values()]
    assert None not in ids and len(set(ids)) == len(ids) == len(users)
