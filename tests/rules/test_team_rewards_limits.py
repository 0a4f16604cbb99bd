"""Peer bonuses and pools in what one line can be paid (LD305), and in the built rule set."""
from __future__ import annotations

from decimal import Decimal

import pytest

from saleor_livedist.exceptions import RuleFileError
from saleor_livedist.rules.loader import load_rules_from_texts
from saleor_livedist.rules.model import Pool, When

RULES = """
schema: livedist/v1
commission:
  rates: [{id: base, rate: 90}]
  team: [{id: upline, level: 2, rate: 4}]
  peer:
    - {id: peer-leader, rate: 3, when: {seller_rank: leader}}
    - {id: peer-distributor, rate: 5, when: {seller_rank: distributor, rank: distributor}}
pools:
  - {id: leader-pool, percent: 2, rank: leader, period: week, share: own, time_zone: Asia/Shanghai}
"""


def test_a_line_can_be_paid_the_peer_bonus_and_every_pool_on_top_of_the_levels() -> None:
    with pytest.raises(RuleFileError) as raised:
        load_rules_from_texts({"r.yaml": RULES})
    (problem,) = raised.value.problems
    assert (problem.code, problem.message) == ("LD305", "one order line can be paid 101% of its amount in all: "
                                               "rate 'base' (90%) + pool 'leader-pool' (2% of GMV) + level 2 rule "
                                               "'upline' (4%) + level 2 peer bonus 'peer-distributor' (5%); more "
                                               "than the line itself")


def test_a_seller_rank_that_excludes_the_rate_excludes_the_peer_bonus_too() -> None:
    """A rate for leaders only cannot be paid with a peer rule for distributors' sales: the seller has one rank."""
    rules = RULES.replace("rates: [{id: base, rate: 90}]", "rates: [{id: base, rate: 92, when: {rank: leader}}]")
    with pytest.raises(RuleFileError) as raised:
        load_rules_from_texts({"r.yaml": rules})
    assert "101%" in raised.value.problems[0].message  # 92 + 2 + 4 + 3: not the 5% for a distributor's sale
    assert "level 2 peer bonus 'peer-leader' (3%)" in raised.value.problems[0].message
    assert "peer-distributor" not in raised.value.problems[0].message


def test_peer_rules_and_pools_are_built_with_their_defaults() -> None:
    ruleset = load_rules_from_texts({"r.yaml": RULES.replace("rate: 90", "rate: 80")})
    assert [(p.id, p.level, p.percent, p.same_rank, p.when) for p in ruleset.peer] == [
        ("peer-leader", 2, Decimal(3), True, When(seller_ranks=frozenset({"leader"}))),
        ("peer-distributor", 2, Decimal(5), True, When(ranks=frozenset({"distributor"}),
                                                       seller_ranks=frozenset({"distributor"}))),
    ]
    assert ruleset.pools == (Pool("leader-pool", Decimal(2), frozenset({"leader"}), ruleset.pools[0].source, "week",
                                  "own", None, "Asia/Shanghai"),)
