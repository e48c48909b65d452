"""Vectorised string edits: keyboard slips, misreadings, sound-alike spellings.

The tables (keyboard neighbours, OCR confusions, phonetic and transliteration rules,
nicknames) and the pure functions that edit whole arrays of strings with them, one
row per value, driven by uniforms the caller draws (so the caller owns the random
streams). :mod:`simulator.world.corruption.kinds` uses them to make each error kind.
"""

from __future__ import annotations

import numpy as np

_KEYBOARD = {
    "q": "wa",
    "w": "qes",
    "e": "wrd",
    "r": "etf",
    "t": "ryg",
    "y": "tuh",
    "u": "yij",
    "i": "uok",
    "o": "ipl",
    "p": "ol",
    "a": "qsz",
    "s": "adwx",
    "d": "sfec",
    "f": "dgrv",
    "g": "fhtb",
    "h": "gjyn",
    "j": "hkum",
    "k": "jlim",
    "l": "ko",
    "z": "ax",
    "x": "zcs",
    "c": "xvd",
    "v": "cbf",
    "b": "vng",
    "n": "bmh",
    "m": "nj",
    "0": "9",
    "1": "2",
    "2": "13",
    "3": "24",
    "4": "35",
    "5": "46",
    "6": "57",
    "7": "68",
    "8": "79",
    "9": "80",
}
_OCR = {
    "a": "o",
    "o": "a",
    "e": "c",
    "c": "e",
    "l": "1",
    "i": "l",
    "n": "h",
    "h": "n",
    "m": "n",
    "u": "v",
    "v": "u",
    "b": "h",
    "r": "n",
    "g": "q",
    "q": "g",
    "t": "f",
    "f": "t",
    "S": "5",
    "O": "0",
    "I": "l",
    "B": "8",
    "Z": "2",
    "G": "C",
    "C": "G",
    "E": "F",
    "F": "E",
    "D": "O",
    "M": "N",
    "N": "M",
}
PHONETIC_RULES = (
    ("ph", "f"),
    ("f", "ph"),
    ("ck", "k"),
    ("c", "k"),
    ("k", "c"),
    ("ee", "ea"),
    ("ea", "ee"),
    ("ie", "y"),
    ("y", "ie"),
    ("ou", "ow"),
    ("ai", "ay"),
    ("ay", "ai"),
    ("th", "t"),
    ("ll", "l"),
    ("nn", "n"),
    ("tt", "t"),
    ("ss", "s"),
    ("s", "z"),
    ("z", "s"),
    ("ey", "y"),
    ("oa", "o"),
    ("gh", "g"),
    ("er", "a"),
)
TRANSLITERATION_RULES = (
    ("mohammed", "muhammad"),
    ("mohammad", "muhammad"),
    ("muhammad", "mohammed"),
    ("mohamed", "mohammed"),
    ("ahmed", "ahmad"),
    ("ahmad", "ahmed"),
    ("ou", "u"),
    ("oo", "u"),
    ("u", "oo"),
    ("ee", "i"),
    ("i", "ee"),
    ("kh", "k"),
    ("q", "k"),
    ("j", "dj"),
    ("v", "w"),
    ("w", "v"),
    ("sh", "sch"),
    ("ei", "ey"),
    ("ah", "a"),
    ("ia", "iya"),
    ("y", "i"),
    ("ł", "l"),
    ("ś", "s"),
    ("ż", "z"),
    ("ź", "z"),
    ("ą", "a"),
    ("ę", "e"),
    ("ó", "o"),
    ("ć", "c"),
    ("ń", "n"),
    ("ş", "s"),
    ("ı", "i"),
    ("ğ", "g"),
    ("ç", "c"),
    ("ö", "o"),
    ("ü", "u"),
    ("é", "e"),
    ("á", "a"),
    ("í", "i"),
    ("ú", "u"),
    ("ã", "a"),
    ("õ", "o"),
    ("ê", "e"),
    ("č", "c"),
    ("ř", "r"),
    ("š", "s"),
    ("ž", "z"),
    ("ě", "e"),
    ("ý", "y"),
    ("ă", "a"),
    ("â", "a"),
    ("ț", "t"),
    ("ș", "s"),
    ("ọ", "o"),
    ("ẹ", "e"),
    ("ṣ", "s"),
    ("ô", "o"),
    ("ñ", "n"),
)
NICKNAMES = {
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rich", "Rick", "Dick"),
    "James": ("Jim", "Jamie", "Jimmy"),
    "John": ("Jack", "Johnny"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Katherine": ("Kate", "Kath", "Katie"),
    "Catherine": ("Cath", "Kate", "Cathy"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Michael": ("Mike", "Mick", "Mikey"),
    "Christopher": ("Chris",),
    "Thomas": ("Tom", "Tommy"),
    "Jonathan": ("Jon",),
    "Daniel": ("Dan", "Danny"),
    "Anthony": ("Tony", "Ant"),
    "Andrew": ("Andy", "Drew"),
    "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benji"),
    "Alexander": ("Alex", "Xander"),
    "Jennifer": ("Jen", "Jenny"),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam", "Sammy"),
    "Jessica": ("Jess", "Jessie"),
    "Joseph": ("Joe", "Joey"),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Matthew": ("Matt",),
    "Nicholas": ("Nick", "Nicky"),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Timothy": ("Tim",),
    "Patricia": ("Pat", "Trish"),
    "Susan": ("Sue", "Susie"),
    "Deborah": ("Debbie", "Deb"),
    "Jacqueline": ("Jackie",),
    "Alexandra": ("Alex", "Lexi"),
    "Charlotte": ("Charlie", "Lottie"),
    "Abigail": ("Abbie", "Abby"),
    "David": ("Dave", "Davy"),
    "Peter": ("Pete",),
    "Gregory": ("Greg",),
    "Kenneth": ("Ken", "Kenny"),
    "Ronald": ("Ron", "Ronnie"),
    "Donald": ("Don", "Donny"),
    "Raymond": ("Ray",),
    "Frederick": ("Fred", "Freddie"),
    "Henry": ("Harry", "Hal"),
    "Charles": ("Charlie", "Chas"),
    "Philip": ("Phil",),
    "Phillip": ("Phil",),
    "Gerald": ("Gerry",),
    "Lawrence": ("Laurie", "Larry"),
    "Frances": ("Fran",),
    "Josephine": ("Jo", "Josie"),
    "Joanne": ("Jo",),
    "Christine": ("Chris", "Tina"),
    "Kimberley": ("Kim",),
    "Natalie": ("Nat",),
    "Nathan": ("Nate",),
    "Zachary": ("Zach",),
    "Oliver": ("Ollie",),
    "Harriet": ("Hattie",),
    "Eleanor": ("Ellie", "Nell"),
    "Amelia": ("Millie",),
    "Isabella": ("Bella", "Izzy"),
    "Gabriel": ("Gabe",),
    "Mohammed": ("Mo",),
    "Muhammad": ("Mo",),
    "Abdullah": ("Abdul",),
    "Oluwaseun": ("Seun",),
    "Olufemi": ("Femi",),
    "Oluwadamilare": ("Dami",),
    "Katarzyna": ("Kasia",),
    "Małgorzata": ("Gosia",),
    "Aleksandra": ("Ola",),
    "Aleksander": ("Olek",),
    "Francesca": ("Fran",),
    "Giuseppe": ("Pino",),
}


def _matrix(values: np.ndarray) -> np.ndarray:
    """Strings as a (n, width) matrix of code points (0 = past the end)."""
    a = np.ascontiguousarray(np.asarray(values, dtype=str))
    width = max(a.dtype.itemsize // 4, 1)
    return (
        a.view(np.uint32).reshape(len(a), width).copy()
        if len(a)
        else np.zeros((0, 1), np.uint32)
    )


def _strings(m: np.ndarray) -> np.ndarray:
    m = np.ascontiguousarray(m, dtype=np.uint32)
    return m.view(f"<U{m.shape[1]}").ravel()


def _lookup(table: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Code point -> (options matrix, option count), over the first 0x2000 points."""
    width = max(len(v) for v in table.values())
    opts = np.zeros((0x2000, width), np.uint32)
    count = np.zeros(0x2000, np.int64)
    for k, v in table.items():
        opts[ord(k), : len(v)] = [ord(c) for c in v]
        count[ord(k)] = len(v)
    return opts, count


_KEY_OPTS, _KEY_COUNT = _lookup(
    {**_KEYBOARD, **{k.upper(): v.upper() for k, v in _KEYBOARD.items() if k.isalpha()}}
)
_OCR_OPTS, _OCR_COUNT = _lookup(_OCR)


def _pick_position(eligible: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, a uniformly chosen column where ``eligible`` is True (or -1)."""
    n_ok = eligible.sum(axis=1)
    rank = np.floor(u * n_ok).astype(np.int64)
    csum = np.cumsum(eligible, axis=1)
    pos = np.argmax(eligible & (csum == rank[:, None] + 1), axis=1)
    return np.where(n_ok > 0, pos, -1)


def _substitute(
    m: np.ndarray, pos: np.ndarray, opts: np.ndarray, count: np.ndarray, u: np.ndarray
) -> np.ndarray:
    rows = np.flatnonzero(pos >= 0)
    ch = np.minimum(m[rows, pos[rows]], 0x1FFF)
    k = np.floor(u[rows] * count[ch]).astype(np.int64)
    m[rows, pos[rows]] = opts[ch, np.minimum(k, opts.shape[1] - 1)]
    return m


def key_slip(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One character that has keyboard neighbours typed as one of them.

    ``u`` is (n, 2) uniforms: position (among such characters), replacement. A value
    with no such character is unchanged.
    """
    m = _matrix(values)
    pos = _pick_position(_KEY_COUNT[np.minimum(m, 0x1FFF)] > 0, u[:, 0])
    return _strings(_substitute(m, pos, _KEY_OPTS, _KEY_COUNT, u[:, 1]))


def mistype(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The character at a uniformly chosen position typed as a keyboard neighbour.

    ``u`` is (n, 2) uniforms: position (among all characters), replacement. Meant
    for identifiers, whose letters and digits all have neighbours: a character
    without any would cut the value there. An empty value is unchanged.
    """
    m = _matrix(values)
    length = (m != 0).sum(axis=1)
    pos = np.minimum(
        np.floor(u[:, 0] * length).astype(np.int64), np.maximum(length - 1, 0)
    )
    _substitute(m, np.where(length > 0, pos, -1), _KEY_OPTS, _KEY_COUNT, u[:, 1])
    return _strings(m)


def typo(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Keyboard typing errors: substitution, deletion, insertion or transposition.

    ``u`` is (n, 3) uniforms: kind, position, replacement.
    """
    m = _matrix(values)
    m = np.concatenate([m, np.zeros((len(m), 1), np.uint32)], axis=1)
    length = (m != 0).sum(axis=1)
    kind = np.floor(u[:, 0] * 4).astype(np.int64)  # 0 sub, 1 del, 2 ins, 3 swap
    pos = np.minimum(
        np.floor(u[:, 1] * length).astype(np.int64), np.maximum(length - 1, 0)
    )
    cols = np.arange(m.shape[1])[None, :]
    keyed = _KEY_COUNT[np.minimum(m, 0x1FFF)] > 0
    sub_pos = _pick_position(keyed, u[:, 1])
    out = m.copy()
    s = kind == 0
    out[s] = _substitute(m[s].copy(), sub_pos[s], _KEY_OPTS, _KEY_COUNT, u[s, 2])
    d = kind == 1
    src = np.minimum(cols + (cols >= pos[:, None]), m.shape[1] - 1)
    deleted = np.take_along_axis(m, src, axis=1)
    deleted[:, -1] = 0
    out[d] = deleted[d]
    i = kind == 2
    src = np.maximum(cols - (cols > pos[:, None]), 0)
    out[i] = np.take_along_axis(m, src, axis=1)[i]
    t = (kind == 3) & (pos + 1 < length)
    rows = np.flatnonzero(t)
    out[rows, pos[rows]], out[rows, pos[rows] + 1] = (
        m[rows, pos[rows] + 1],
        m[rows, pos[rows]],
    )
    return _strings(out)


def ocr(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Optical misreadings: one visually similar character (``u`` is (n, 2))."""
    m = _matrix(values)
    pos = _pick_position(_OCR_COUNT[np.minimum(m, 0x1FFF)] > 0, u[:, 0])
    return _strings(_substitute(m, pos, _OCR_OPTS, _OCR_COUNT, u[:, 1]))


def rewrite(
    values: np.ndarray, rules: tuple[tuple[str, str], ...], u: np.ndarray
) -> np.ndarray:
    """Apply one applicable (pattern, replacement) rule per value, first occurrence.

    Matching ignores case; a replacement at the start keeps a capital.
    """
    values = np.asarray(values, dtype=str)
    if not len(values):
        return values
    # Names repeat (a vocabulary's): each distinct value searched once, every rule.
    distinct, of_row = np.unique(values, return_inverse=True)
    # İ lowers to two code points, which would shift every later match position.
    lower = np.strings.lower(np.strings.replace(distinct, "İ", "I"))
    found = np.stack([np.strings.find(lower, p) for p, _ in rules], axis=1)[of_row]
    choice = _pick_position(found >= 0, u)
    out = values.copy().astype(object)
    rows = np.flatnonzero(choice >= 0)
    if len(rows):  # every rule at once: each row's pattern length and replacement
        rule = choice[rows]
        v, at = values[rows], found[rows, rule]
        pattern_length = np.array([len(pat) for pat, _ in rules])[rule]
        head = np.strings.slice(v, 0, at)
        tail = np.strings.slice(v, at + pattern_length, None)
        first_upper = np.strings.isupper(np.strings.slice(v, 0, 1))
        plain = np.array([rep for _, rep in rules])[rule]
        capital = np.array([rep[:1].upper() + rep[1:] for _, rep in rules])[rule]
        rep_arr = np.where((at == 0) & first_upper, capital, plain)
        out[rows] = np.strings.add(np.strings.add(head, rep_arr), tail)
    return out.astype(str)


def _nickname_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Names with nicknames (sorted), their options (padded) and option counts."""
    names = np.array(sorted(NICKNAMES))
    width = max(len(v) for v in NICKNAMES.values())
    options = np.array(
        [[*NICKNAMES[n], *[""] * (width - len(NICKNAMES[n]))] for n in names]
    )
    count = np.array([len(NICKNAMES[n]) for n in names])
    return names, options, count


_NICK_NAMES, _NICK_OPTIONS, _NICK_COUNT = _nickname_table()


def has_nickname(names: np.ndarray) -> np.ndarray:
    """Whether each first name has a nickname in :data:`NICKNAMES`.

    ``np.isin``'s answer by a binary search of the sorted names, not a sort of both.
    """
    names = np.asarray(names)
    if not len(names):
        return np.zeros(0, bool)
    at = np.minimum(np.searchsorted(_NICK_NAMES, names), len(_NICK_NAMES) - 1)
    return _NICK_NAMES[at] == names


def nickname(names: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One of each name's nicknames, chosen by the uniforms ``u``.

    Every name must have one (:func:`has_nickname`).
    """
    which = np.searchsorted(_NICK_NAMES, names)
    k = np.floor(u * _NICK_COUNT[which]).astype(np.int64)
    return _NICK_OPTIONS[which, k]
