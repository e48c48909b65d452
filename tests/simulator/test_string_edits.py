"""The string edits behind name and postcode errors: typo, OCR and rule rewrites.

Each property is checked against an independent description of the edit (what one
typing slip or one misread character can produce), not against the implementation.
"""

from __future__ import annotations

import string

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.world.corruption.string_edits import (
    _OCR,
    NICKNAMES,
    PHONETIC_RULES,
    TRANSLITERATION_RULES,
    has_nickname,
    key_slip,
    mistype,
    nickname,
    ocr,
    rewrite,
    typo,
)

SETTINGS = settings(max_examples=25, deadline=None)
KEYED = set(string.ascii_letters + string.digits)
"""Characters with keyboard neighbours: the only ones a substitution can replace."""

# Names as they occur, plus awkward cases: empty, non-ASCII, characters whose
# lower case is longer (İ), spaces, apostrophes and hyphens.
name_chars = st.sampled_from(
    list(string.ascii_letters) + list("Łłśżźąęóćńşıİğçöüéáíúãõêčřšžěýăâțșọẹṣôñ '-ß")
)
names = st.one_of(
    st.text(name_chars, max_size=14),
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), max_size=10),
    st.sampled_from(
        ["", "Łukasz", "İsmail", "Mohammed", "Philippa", "Ng", "O'Neill", "A"]
    ),
)
name_lists = st.lists(names, min_size=1, max_size=12)
unit = st.floats(0, 1, exclude_max=True)


def _uniforms(draw: st.DrawFn, n: int, k: int) -> np.ndarray:
    values = draw(
        st.lists(st.lists(unit, min_size=k, max_size=k), min_size=n, max_size=n)
    )
    return np.array(values, dtype=float).reshape(n, k)


def _one_typing_slip(old: str, new: str) -> bool:
    """True if ``new`` is ``old`` after at most one substitution of a keyed character
    by another keyed character, one deletion, one insertion or one transposition."""
    if new == old:
        return True
    if len(new) == len(old):
        diff = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if len(diff) == 1:
            i = diff[0]
            return old[i] in KEYED and new[i] in KEYED
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and old[diff[0]] == new[diff[1]]
            and old[diff[1]] == new[diff[0]]
        )
    if len(new) == len(old) - 1:
        return any(old[:i] + old[i + 1 :] == new for i in range(len(old)))
    if len(new) == len(old) + 1:
        return any(new[:i] + new[i + 1 :] == old for i in range(len(new)))
    return False


@SETTINGS
@given(data=st.data(), values=name_lists)
def test_typo_is_one_typing_slip(data, values):
    u = _uniforms(data.draw, len(values), 3)
    out = typo(np.array(values, dtype=str), u)
    assert len(out) == len(values)
    for old, new in zip(values, out, strict=True):
        assert abs(len(new) - len(old)) <= 1
        assert _one_typing_slip(old, str(new)), (old, new)


@SETTINGS
@given(data=st.data(), values=name_lists)
def test_typo_deletion_and_insertion_always_change_a_non_empty_string(data, values):
    # The kind is the first uniform: substitution, deletion, insertion, transposition
    # in quarters; the middle half are deletions and insertions.
    u = _uniforms(data.draw, len(values), 3)
    u[:, 0] = data.draw(st.floats(0.25, 0.75, exclude_max=True))
    out = typo(np.array(values, dtype=str), u)
    for old, new in zip(values, out, strict=True):
        if old:
            assert abs(len(new) - len(old)) == 1, (old, new)
        else:
            assert new == ""


@SETTINGS
@given(data=st.data(), values=name_lists)
def test_typo_substitution_changes_any_string_with_a_keyed_character(data, values):
    u = _uniforms(data.draw, len(values), 3)
    u[:, 0] = data.draw(st.floats(0, 0.25, exclude_max=True))
    out = typo(np.array(values, dtype=str), u)
    for old, new in zip(values, out, strict=True):
        assert (new != old) == any(c in KEYED for c in old), (old, new)


def test_typo_leaves_strings_it_cannot_edit():
    values = np.array(["", "", "łó", "łó"], dtype=str)
    u = np.array([[0.1, 0.5, 0.5], [0.9, 0.5, 0.5], [0.1, 0.5, 0.5], [0.9, 0.9, 0.5]])
    # Empty strings; a substitution without keyed characters; a transposition at the
    # last position.
    assert list(typo(values, u)) == ["", "", "łó", "łó"]


@SETTINGS
@given(data=st.data(), values=name_lists)
def test_ocr_misreads_exactly_one_readable_character(data, values):
    u = _uniforms(data.draw, len(values), 2)
    out = ocr(np.array(values, dtype=str), u)
    for old, new in zip(values, out, strict=True):
        new = str(new)
        assert len(new) == len(old)
        diff = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if any(c in _OCR for c in old):
            assert len(diff) == 1, (old, new)
            i = diff[0]
            assert _OCR[old[i]] == new[i]
        else:
            assert diff == [], (old, new)


def _lower_char(c: str) -> str:
    """Case-insensitive form of one character, one character long (İ -> i)."""
    return c.lower()[:1]


def _applications(value: str, rules: tuple[tuple[str, str], ...]) -> set[str]:
    """Every result of applying one rule at its first case-insensitive occurrence."""
    lower = "".join(_lower_char(c) for c in value)
    out = set()
    for pattern, replacement in rules:
        at = lower.find(pattern)
        if at < 0:
            continue
        rep = replacement
        if at == 0 and value[:1].isupper():
            rep = replacement[:1].upper() + replacement[1:]
        out.add(value[:at] + rep + value[at + len(pattern) :])
    return out


rule_sets = st.sampled_from([PHONETIC_RULES, TRANSLITERATION_RULES])
"""Either table of rewrite rules."""


@SETTINGS
@given(data=st.data(), values=name_lists, rules=rule_sets)
def test_rewrite_applies_one_rule_at_its_first_occurrence(data, values, rules):
    u = _uniforms(data.draw, len(values), 1)[:, 0]
    out = rewrite(np.array(values, dtype=str), rules, u)
    for old, new in zip(values, out, strict=True):
        options = _applications(old, rules)
        if options:
            assert str(new) in options, (old, new, sorted(options))
        else:
            assert new == old


@SETTINGS
@given(data=st.data(), pool=name_lists, rules=rule_sets)
def test_rewrite_of_many_rows_is_each_rows_rewrite_alone(data, pool, rules):
    """Values repeat (names): rewriting them together, each distinct value searched
    once, gives every row what rewriting it alone with its uniform gives."""
    values = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=30))
    u = _uniforms(data.draw, len(values), 1)[:, 0]
    together = rewrite(np.array(values, dtype=str), rules, u)
    for i, value in enumerate(values):
        alone = rewrite(np.array([value], dtype=str), rules, u[i : i + 1])
        assert together[i] == alone[0], (value, together[i], alone[0])


def test_rewrite_examples():
    u = np.zeros(4)
    out = rewrite(
        np.array(["Mohammed", "Philip", "Łukasz", "Zoe"], dtype=str),
        TRANSLITERATION_RULES,
        u,
    )
    # u = 0 picks the first applicable rule in the table's order.
    assert list(out) == ["Muhammad", "Pheelip", "Łookasz", "Zoe"]


def test_edits_accept_no_values():
    empty = np.array([], dtype=str)
    assert len(typo(empty, np.zeros((0, 3)))) == 0
    assert len(ocr(empty, np.zeros((0, 2)))) == 0
    for rules in (PHONETIC_RULES, TRANSLITERATION_RULES):
        assert len(rewrite(empty, rules, np.zeros(0))) == 0


def _changed_positions(old: str, new: str) -> list[int]:
    assert len(new) == len(old), (old, new)
    return [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


@SETTINGS
@given(data=st.data(), values=name_lists)
def test_key_slip_retypes_one_keyed_character_whenever_there_is_one(data, values):
    u = _uniforms(data.draw, len(values), 2)
    out = key_slip(np.array(values, dtype=str), u)
    for old, new in zip(values, out, strict=True):
        diff = _changed_positions(old, str(new))
        assert len(diff) == (1 if any(c in KEYED for c in old) else 0), (old, new)
        assert all(old[i] in KEYED and new[i] in KEYED for i in diff)


identifiers = st.lists(
    st.text(st.sampled_from(sorted(KEYED)), max_size=12), min_size=1, max_size=12
)


@SETTINGS
@given(data=st.data(), values=identifiers)
def test_mistype_retypes_only_the_chosen_character(data, values):
    u = _uniforms(data.draw, len(values), 2)
    out = mistype(np.array(values, dtype=str), u)
    for old, new, u_pos in zip(values, out, u[:, 0], strict=True):
        diff = _changed_positions(old, str(new))
        if not old:
            assert diff == []
            continue
        chosen = min(int(np.floor(u_pos * len(old))), len(old) - 1)
        assert diff == [chosen], (old, new)
        assert new[chosen] in KEYED


@SETTINGS
@given(values=st.lists(names | st.sampled_from(sorted(NICKNAMES)), max_size=20))
def test_has_nickname_is_being_one_of_the_names(values):
    """``has_nickname`` answers whether a name is a key of ``NICKNAMES``."""
    values = [*values, *sorted(NICKNAMES), "", "\U0010fff0", "A"]  # the ends too
    got = has_nickname(np.array(values, dtype=str))
    assert got.tolist() == [v in NICKNAMES for v in np.array(values, dtype=str)]


def test_a_nickname_is_one_of_the_names_nicknames():
    names = np.array(sorted(NICKNAMES), dtype=str)
    assert has_nickname(names).all()
    assert not has_nickname(np.array(["Zzyzx", "", "mohammed"], dtype=str)).any()
    for u in (0.0, 0.5, 0.999):
        out = nickname(names, np.full(len(names), u))
        assert all(new in NICKNAMES[n] for n, new in zip(names, out, strict=True))
    # every nickname of a name can be drawn
    k = max(len(v) for v in NICKNAMES.values())
    drawn = {
        (n, str(new))
        for j in range(k)
        for n, new in zip(
            names, nickname(names, np.full(len(names), j / k)), strict=True
        )
    }
    assert drawn == {(n, v) for n in NICKNAMES for v in NICKNAMES[n]}
