"""The loader's public API: the default rules, versioning, the typed values it builds, and its edges."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from saleor_livedist.exceptions import LiveDistError, RuleFileError
from saleor_livedist.rules import loader, yamldoc
from saleor_livedist.rules.loader import check_rules, default_rules_dir, load_rules, load_rules_from_texts
from saleor_livedist.rules.model import Binding, Compliance, Qualify, Reward, Settlement, When

from .conftest import HERE, VALID_DIR

PROJECT = HERE.parents[1]


def codes(files: dict[str, str | bytes]) -> list[str]:
    with pytest.raises(RuleFileError) as raised:
        load_rules_from_texts(files)
    return [problem.code for problem in raised.value.problems]


def test_default_rules_dir_holds_the_projects_rules() -> None:
    """A symlink in a checkout, a copy in an installed wheel: the same files either way."""
    def files(directory: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in directory.glob("*.yaml")}

    assert files(default_rules_dir()) == files(PROJECT / "rules") != {}


def test_default_rules() -> None:
    rules = load_rules()
    assert [(r.id, r.percent, r.when, r.priority) for r in rules.rates] == [
        ("direct", Decimal(5), When(), 0),
        ("live-featured", Decimal(10), When(context="live", featured=True), 10),
        ("replay", Decimal(5), When(context="replay"), 10),
    ]
    assert [(r.id, r.percent, r.when) for r in rules.bonuses] == [
        ("first-live-hour", Decimal(2), When(context="live", live_minutes=(0, 60))),
    ]
    assert [(r.id, r.level, r.percent, r.when) for r in rules.team] == [
        ("leader-level-2", 2, Decimal(2), When(ranks=frozenset({"leader"}))),
    ]
    invite, ten = rules.tasks
    assert (invite.id, invite.scope, invite.qualify, invite.each, invite.target, invite.reward) == (
        "invite-watcher", "live", Qualify(watched_minutes=5), Reward(points=5), None, None)
    assert (ten.id, ten.qualify, ten.each, ten.target, ten.reward) == (
        "ten-watchers", Qualify(watched_minutes=5), None, 10, Reward(points=50, bonus_percent=Decimal(2)))
    assert [(p.id, p.rank, p.paying_invitees, p.from_ranks) for p in rules.promotions] == [
        ("leader", "leader", 2, frozenset())]
    assert rules.binding == Binding(bind_on="click", valid_days=30, overwrite="first", self_purchase=False)
    assert rules.settlement == Settlement(approve_after_days=7)
    assert rules.compliance == Compliance(max_levels=2)
    assert [Path(f).name for f in rules.files] == ["commission.yaml", "policy.yaml", "tasks.yaml"]
    assert [(r.id, r.level, r.percent, r.same_rank, r.when) for r in rules.peer] == [
        ("leader-peer", 2, Decimal(1), True, When(seller_ranks=frozenset({"leader"}))),
    ]
    assert [r.order for r in rules.rate_rules()] == [0, 1, 2, 3, 4, 5]


RATE = "schema: livedist/v1\ncommission:\n  rates:\n    - id: direct\n      rate: 5\n      when: {context: live}\n"


def version(text: str, name: str = "a.yaml") -> str:
    return load_rules_from_texts({name: text}).version


def test_version_ignores_comments_key_order_layout_and_file_names() -> None:
    reformatted = (
        "# The plain rate.\n"
        "commission:   # comment\n"
        "  rates: [{when: {context: 'live'}, rate: 5, id: \"direct\"}]\n"
        "schema: livedist/v1\n"
    )
    assert version(RATE) == version(reformatted) == version(RATE, name="renamed.yaml")
    assert len(version(RATE)) == 16 and int(version(RATE), 16) >= 0


def test_version_changes_with_meaning() -> None:
    assert version(RATE) != version(RATE.replace("rate: 5", "rate: 6"))
    assert version(RATE) != version(RATE.replace("context: live", "context: replay"))
    two = {"a.yaml": RATE, "b.yaml": "schema: livedist/v1\nsettlement: {approve_after_days: 3}\n"}
    assert load_rules_from_texts(two).version != version(RATE)


def test_version_of_the_default_rules_is_stable_across_loads() -> None:
    assert load_rules().version == load_rules(str(default_rules_dir())).version


def test_percents_are_exact_decimals() -> None:
    text = RATE.replace("rate: 5", "rate: 2.5") + "    - id: b\n      rate: '0.1'\n    - id: c\n      rate: 0.1\n"
    assert [r.percent for r in load_rules_from_texts({"a.yaml": text}).rates] == [
        Decimal("2.5"), Decimal("0.1"), Decimal("0.1")]


def test_order_follows_file_names_then_declaration() -> None:
    later = "schema: livedist/v1\ncommission:\n  rates:\n    - {id: z-first-in-a, rate: 1}\n    - {id: y, rate: 1}\n"
    earlier = "schema: livedist/v1\ncommission:\n  rates:\n    - {id: b-rule, rate: 1}\n"
    rules = load_rules_from_texts({"b.yaml": earlier, "a.yaml": later})
    assert [(r.id, r.order) for r in rules.rates] == [("z-first-in-a", 0), ("y", 1), ("b-rule", 2)]
    assert rules.files == ("a.yaml", "b.yaml")


def test_sources_point_at_the_id_with_the_path_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID_DIR)
    rule = load_rules(["rates.yaml"]).rates[1]
    assert (rule.id, str(rule.source)) == ("shoes", "rates.yaml:10:11")


def test_values_are_normalized_and_hashable() -> None:
    rules = load_rules([VALID_DIR / "rates.yaml", VALID_DIR / "bonuses.yaml", VALID_DIR / "policy.yaml"])
    hash(rules)
    by_id = {rule.id: rule for rule in rules.rate_rules()}
    assert by_id["shoes"].percent == Decimal("7.5") and by_id["shoes"].when.categories == frozenset({"shoes"})
    assert by_id["big-baskets"].when.custom == (
        ("big_basket", (("min_amount", "199.00"), ("tiers", (1, 2)))), ("weekend", ()))
    assert by_id["big-baskets"].actions == (("double_points", ()),)
    beijing = timezone(timedelta(hours=8))
    assert by_id["double-eleven"].when.between == (
        datetime(2024, 11, 11, tzinfo=beijing), datetime(2024, 11, 12, tzinfo=beijing))
    assert rules.binding.valid_days is None  # permanent


def test_a_directory_loads_its_yaml_and_yml_files_only(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text("schema: livedist/v1\n")
    (tmp_path / "a.yaml").write_text("schema: livedist/v1\n")
    (tmp_path / "notes.txt").write_text("not rules")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "c.yaml").write_text("not: even: yaml")
    rules = load_rules(tmp_path)
    assert [Path(f).name for f in rules.files] == ["a.yaml", "b.yml"]


def test_bytes_and_text_give_the_same_rules() -> None:
    assert load_rules_from_texts({"a.yaml": RATE}) == load_rules_from_texts({"a.yaml": RATE.encode()})


def test_missing_paths_and_empty_lists_are_reported(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError) as raised:
        load_rules([tmp_path / "nope.yaml"])
    assert [p.code for p in raised.value.problems] == ["LD001"]
    with pytest.raises(RuleFileError) as raised:
        load_rules([])
    assert [p.code for p in raised.value.problems] == ["LD002"]


def test_check_rules_lists_problems_instead_of_raising(tmp_path: Path) -> None:
    assert check_rules() == []
    (tmp_path / "a.yaml").write_text("schema: livedist/v1\nbinding: {bind_on: never}\n")
    assert [p.code for p in check_rules(tmp_path)] == ["LD104"]


def test_the_error_is_a_value_error_and_renders_excerpt_and_hint() -> None:
    with pytest.raises(ValueError) as raised:
        load_rules_from_texts({"a.yaml": RATE.replace("rate: 5", "rat: 5")})
    assert isinstance(raised.value, LiveDistError)
    assert str(raised.value) == (
        "a.yaml:5:7: unknown key 'rat' in commission rate rule 'direct' [LD101]\n"
        "          rat: 5\n"
        "          ^\n"
        "    hint: did you mean 'rate'? valid keys: id, description, rate, priority, when, actions"
    )


def test_problems_in_several_files_are_reported_together() -> None:
    assert codes({"a.yaml": "schema: livedist/v1\nbinding: 3\n", "b.yaml": b"\xff", "c.yaml": "[1"}) == [
        "LD102", "LD003", "LD004"]


def test_a_bug_in_a_check_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(loader, "collect_entries", broken)
    with pytest.raises(RuleFileError) as raised:
        load_rules_from_texts({"a.yaml": RATE})
    problem, = raised.value.problems
    assert (problem.code, problem.path, problem.message) == (
        "LD099", "a.yaml", "internal error while checking this file (KeyError)")


def test_merge_keys_give_way_to_keys_written_in_the_mapping() -> None:
    rules = load_rules([VALID_DIR / "yaml-features.yaml"])
    live, vip = rules.rates
    assert (vip.id, vip.priority, vip.percent) == ("live-vip", 1, Decimal(10))
    assert vip.when == When(context="live", channels=frozenset({"default-channel"}), ranks=frozenset({"vip"}))
    assert live.when.ranks == frozenset()


@pytest.mark.parametrize("cut", range(7))  # a rule is 7 values: each limit cuts it at another one
def test_a_cut_short_alias_bomb_reports_only_the_expansion(cut: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past the limit every value reads as empty, also inside the rule being read when the limit is reached: no check
    # may then run on those empty values. A low limit keeps the file small.
    monkeypatch.setattr(yamldoc, "MAX_ALIAS_VALUES", 14 * 7 + cut)
    rule = "&r {id: r, add: 1, when: {live_minutes: {from: 0, to: 60}}}"
    bonuses = ", ".join([rule] + ["*r"] * 20)
    text = f"schema: livedist/v1\ncommission:\n  bonuses: [{bonuses}]\n"
    assert codes({"a.yaml": text}) == ["LD007"]


def test_an_honest_file_with_many_values_is_not_an_alias_bomb() -> None:
    """Only values built again through aliases count: 30,000 products written out are a list, not a bomb."""
    products = ", ".join(f"p{index}" for index in range(30_000))
    text = f"{RATE}      when: {{context: live, products: [{products}]}}\n".replace("      when: {context: live}\n", "", 1)
    rate, = load_rules_from_texts({"a.yaml": text}).rates
    assert len(rate.when.products) == 30_000


def test_merges_count_as_alias_expansions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamldoc, "MAX_ALIAS_VALUES", 10)
    defaults = "&d {" + ", ".join(f"k{index}: 1" for index in range(4)) + "}"
    merges = ", ".join(["{<<: *d}"] * 4)
    text = f"schema: livedist/v1\nx: [{defaults}, {merges}]\n"
    assert "LD007" in codes({"a.yaml": text})


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO would block open() and read(), /dev/zero never ends: both are refused from their stat."""
    (tmp_path / "good.yaml").write_text(RATE)
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "dir.yml").mkdir()
    problems = check_rules(tmp_path)
    assert [(Path(p.path).name, p.code, p.message) for p in problems] == [
        ("dir.yml", "LD014", "not a regular file (a directory): rule files are plain text files"),
        ("pipe.yaml", "LD014", "not a regular file (a named pipe (FIFO)): rule files are plain text files"),
        ("zero.yaml", "LD014", "not a regular file (a device): rule files are plain text files"),
    ]
    assert [p.code for p in check_rules([tmp_path / "pipe.yaml"])] == ["LD014"]  # a file given by name too


def test_a_fifo_swapped_in_after_the_stat_does_not_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.mkfifo(tmp_path / "a.yaml")
    looks = []
    real = loader._not_readable

    def first_look_sees_a_regular_file(status: os.stat_result) -> object:
        looks.append(status)
        return None if len(looks) == 1 else real(status)

    monkeypatch.setattr(loader, "_not_readable", first_look_sees_a_regular_file)
    assert [p.code for p in check_rules([tmp_path / "a.yaml"])] == ["LD014"]
    assert len(looks) == 2


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    big = RATE + "# " + "x" * loader.MAX_FILE_BYTES + "\n"
    (tmp_path / "big.yaml").write_text(big)
    problem, = check_rules(tmp_path)
    assert (problem.code, problem.message) == ("LD015", "the file is larger than 1024 KiB")
    assert codes({"a.yaml": big}) == ["LD015"]
    at_limit = RATE + "# " + "x" * (loader.MAX_FILE_BYTES - len(RATE) - 3) + "\n"
    assert len(at_limit) == loader.MAX_FILE_BYTES and len(load_rules_from_texts({"a.yaml": at_limit}).rates) == 1


def test_a_long_line_is_not_copied_whole_into_messages() -> None:
    problem, = codes_problems({"a.yaml": RATE.replace("rate: 5", "rate: " + "9" * 5000 + "x")})
    assert len(problem.excerpt) <= yamldoc.MAX_EXCERPT + 1


def codes_problems(files: dict[str, str | bytes]) -> list:
    with pytest.raises(RuleFileError) as raised:
        load_rules_from_texts(files)
    return raised.value.problems


SECRET_FILES = {
    "syntax.yaml": "password: hunter2\n  bad: [indent\n",
    "keys.yaml": "hunter2: 1\ndb:\n  password: hunter2\n",
    "types.yaml": "commission: hunter2\ntasks: [{id: hunter2, lives: hunter2}]\n",
    "tags.yaml": "token: !hunter2 x\nn: !!int hunter2\n",
    "list.yaml": "- hunter2\n",
    "bytes.yaml": b"key: hunter2 \xff\n",
}


def test_other_files_contents_never_appear_in_problems(tmp_path: Path) -> None:
    """Pointing the rules directory (the plugin's configuration) at server files must not read them out through the
    messages: a file that does not declare 'schema: livedist/v1' gets positions and codes, not its text."""
    for name, content in SECRET_FILES.items():
        (tmp_path / name).write_bytes(content.encode() if isinstance(content, str) else content)
    problems = check_rules(tmp_path)
    assert {Path(p.path).name for p in problems} == set(SECRET_FILES)
    assert all(p.line or p.code == "LD012" for p in problems if p.code != "LD011")
    for problem in problems:
        assert "hunter2" not in problem.render(), problem.render()
    passwd = Path("/etc/passwd")
    if passwd.is_file():  # a real server file, given as the rules "directory"
        first_field = passwd.read_text().split(":", 1)[0]
        assert all(first_field not in p.render().replace(str(passwd), "") for p in check_rules(passwd))


def test_a_declared_rule_file_keeps_its_detailed_messages() -> None:
    problem, = codes_problems({"a.yaml": RATE.replace("rate: 5", "rat: 5")})
    assert "'rat'" in problem.message and problem.excerpt
