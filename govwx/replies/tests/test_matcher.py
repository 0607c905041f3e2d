"""The compiled matcher against a plain first-match loop, and its regex indexing."""

from __future__ import annotations

import random

from govwx.replies.matcher import RuleSpec, compile_rules, required_literal
from govwx.wechat.protocol import Reply


def spec(pk: int, *keywords: tuple[str, str], reply_all: bool = False) -> RuleSpec:
    return RuleSpec(
        pk, f"r{pk}", reply_all, tuple(keywords), (Reply("text", {"content": f"{pk}"}),)
    )


def naive(specs: list[RuleSpec], text: str) -> int | None:
    import re

    for s in specs:
        for kw, how in s.keywords:
            if (
                (how == "exact" and kw == text)
                or (how == "contains" and kw in text)
                or (how == "regex" and re.search(kw, text))
            ):
                return s.pk
    return None


def test_lowest_rank_wins_whatever_the_order_of_keywords() -> None:
    specs = [
        spec(1, ("江北区社保查询", "contains")),
        spec(2, ("社保", "contains")),
        spec(3, ("社保", "exact")),
    ]
    m = compile_rules(specs)
    assert m.match("江北区社保查询材料").pk == 1
    assert m.match("社保怎么交").pk == 2
    assert m.match("社保").pk == 2  # contains of rule 2 outranks exact of rule 3
    assert m.match("公积金") is None
    assert m.match("") is None


def test_exact_means_the_whole_message() -> None:
    m = compile_rules([spec(1, ("人工", "exact"))])
    assert m.match("人工").pk == 1
    assert m.match("人工服务") is None


def test_it_agrees_with_a_naive_loop_on_random_rules() -> None:
    rng = random.Random(7)
    alphabet = "社保公积金户口疫苗入学违章天气"
    specs = []
    for pk in range(1, 400):
        kws = []
        for _ in range(rng.randint(1, 3)):
            word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
            kws.append((word, rng.choice(["exact", "contains", "contains"])))
        specs.append(spec(pk, *kws))
    specs.append(spec(400, ("天气.*好", "regex")))
    m = compile_rules(specs)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet + "的了吗") for _ in range(rng.randint(0, 12)))
        hit = m.match(text)
        assert (hit.pk if hit else None) == naive(specs, text), text


def test_regex_rules_are_indexed_by_a_required_literal() -> None:
    assert required_literal(r"社保卡.*补办") == "社保卡"
    assert required_literal(r"(社保|医保)") is None
    assert required_literal(r"(?i)abc") is None
    assert required_literal(r"\d{11}") is None
    m = compile_rules([spec(1, (r"社保卡.*补办", "regex")), spec(2, (r"^\d{11}$", "regex"))])
    assert m.regex_always and m.regex_indexed is not None
    assert m.match("我的社保卡丢了怎么补办").pk == 1
    assert m.match("社保卡丢了") is None
    assert m.match("13800138000").pk == 2


def test_an_unindexed_regex_is_not_tried_when_a_better_rule_matched() -> None:
    class Counting:
        calls = 0

        def search(self, text: str) -> bool:
            Counting.calls += 1
            return True

    m = compile_rules([spec(1, ("社保", "contains")), spec(2, (r"\d+", "regex"))])
    m.regex_always = [(1, Counting())]  # type: ignore[list-item]
    assert m.match("社保").pk == 1 and Counting.calls == 0
    assert m.match("公积金").pk == 2 and Counting.calls == 1


def test_reply_all_and_random_one() -> None:
    replies = tuple(Reply("text", {"content": c}) for c in "abc")
    both = compile_rules([RuleSpec(1, "r", True, (("x", "contains"),), replies)]).match("x")
    assert both.choose() == replies
    one = compile_rules([RuleSpec(1, "r", False, (("x", "contains"),), replies)]).match("x")
    picks = {one.choose(random.Random(i))[0].data["content"] for i in range(50)}
    assert picks == {"a", "b", "c"}
