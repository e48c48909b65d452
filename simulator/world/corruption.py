"""Inaccuracy: errors each source makes in its own copy of a record, all logged.

Errors are applied in the order of :data:`ERRORS`
(:data:`simulator.vocabulary.ERROR_NAMES`, also the field order of
:class:`~simulator.schema.scenario.ErrorRates`). Each draws once per row from its own
stream (``corruption/<source>/<error>``), so changing one rate never reshuffles another.
A hit only counts where the error can change something (a nickname needs a name that
has one; a stale address needs a family that moved), and ``err_<name>`` is True
exactly on the rows the error changed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.schema.agencies import ErrorMultiplier, ErrorRates
from simulator.vocabulary import ERROR_NAMES
from simulator.world import identity
from simulator.world.agencies.base import PopulationChunk
from simulator.world.records import HELD_IDENTIFIERS, Rows, Strings

ERRORS: tuple[str, ...] = ERROR_NAMES
"""Every error kind, in the order applied; ``err_<name>`` columns follow this order."""
HOUSEHOLD_LEVEL = frozenset({"stale_address"})
"""Errors drawn once per household and source: a source that has not seen a family's
move holds the old address for all of its members."""

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
_ID_COLUMNS = {"nhs": "nhs_number", "upn": "upn", "ni": "ni_number"}
_COPIED_ON_WRONG_PERSON = (
    "first_name",
    "last_name",
    "sex",
    "dob",
    "nhs_number",
    "ni_number",
    "upn",
)


# ------------------------------------------------------------------ string editing


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
    # İ lowers to two code points, which would shift every later match position.
    lower = np.strings.lower(np.strings.replace(values, "İ", "I"))
    found = np.stack([np.strings.find(lower, p) for p, _ in rules], axis=1)
    choice = _pick_position(found >= 0, u)
    out = values.copy().astype(object)
    for r, (pat, rep) in enumerate(rules):
        rows = np.flatnonzero(choice == r)
        if not len(rows):
            continue
        v, at = values[rows], found[rows, r]
        head = np.strings.slice(v, 0, at)
        tail = np.strings.slice(v, at + len(pat), None)
        first_upper = np.strings.isupper(np.strings.slice(v, 0, 1))
        rep_arr = np.where((at == 0) & first_upper, rep[:1].upper() + rep[1:], rep)
        out[rows] = np.strings.add(np.strings.add(head, rep_arr), tail)
    return out.astype(str)


# ---------------------------------------------------------------------- the engine


class _Records:
    """A source's rows being corrupted, with the truth it may consult."""

    def __init__(
        self,
        rows: Rows,
        chunk: PopulationChunk,
        source: str,
        streams_prefix: tuple[str, ...],
    ):
        self.rows, self.chunk, self.source = rows, chunk, source
        self.streams_prefix = streams_prefix
        self._positions()

    def _positions(self) -> None:
        """Each row's household and person position in the chunk, and block counts."""
        hid = self.rows["true_household_id"]
        self.h_pos = np.searchsorted(
            self.chunk.households["household_id"].to_numpy(), hid
        )
        self.p_pos = np.searchsorted(
            self.chunk.people["person_id"].to_numpy(), self.rows["true_person_id"]
        )
        self.counts = self.chunk.counts(hid)

    def take(self, idx: np.ndarray) -> None:
        """Keep the rows ``idx``, in that order."""
        self.rows = self.rows.take(idx)
        self._positions()

    def uniforms(self, name: str, k: int = 1) -> np.ndarray:
        """``k`` uniforms per row from stream ``name``: shape (n,) or (n, k)."""
        s = self.chunk.streams(*self.streams_prefix, name)
        if k == 1:
            return s.random(self.counts)
        return np.stack([s.random(self.counts) for _ in range(k)], axis=1)

    def other_member(self, u: np.ndarray) -> np.ndarray:
        """Row in ``people`` of another member of each row's household."""
        s = self.chunk.household_start[self.h_pos]
        z = self.chunk.household_size[self.h_pos]
        own = self.p_pos - s
        return s + (own + 1 + np.floor(u * np.maximum(z - 1, 1)).astype(np.int64)) % z

    def strings(self, column: str, rows: np.ndarray) -> np.ndarray:
        """Current values of ``column`` at ``rows`` as a str array ('' for missing)."""
        return self.rows[column].values(rows)

    def present(self, column: str) -> np.ndarray:
        """True where ``column`` holds a value."""
        col = self.rows[column]
        if isinstance(col, Strings):
            return col.present()
        return ~np.isnat(col)

    def set_strings(
        self, column: str, rows: np.ndarray, new: np.ndarray | None
    ) -> None:
        """Set ``column`` at ``rows`` to strings ``new`` (None: missing)."""
        self.rows[column].set(rows, new)

    def set_codes(self, column: str, rows: np.ndarray, codes: np.ndarray) -> None:
        """Set ``column`` at ``rows`` to values of the chunk's coded identity column."""
        col, truth = self.rows[column], self.chunk.identity(column)
        if col.base is truth.base:
            col.codes[rows] = codes
        else:  # a column not coded against the chunk's pool: copy the strings
            new = Strings(codes, truth.base, truth.extra)
            ok = new.present()
            col.set(rows[ok], new.values(np.flatnonzero(ok)))
            col.set(rows[~ok], None)

    def rates(
        self, error: str, base: float, multipliers: tuple[ErrorMultiplier, ...]
    ) -> np.ndarray:
        """Each row's rate for ``error``: base times group multipliers, capped at 1."""
        rate = np.full(len(self.chunk.households), float(base))
        for m in multipliers:
            if (m.errors and error not in m.errors) or (
                m.sources and self.source not in m.sources
            ):
                continue
            rate = np.where(
                self.chunk.in_group(m.column, m.value), rate * m.factor, rate
            )
        return np.minimum(rate, 1.0)[self.h_pos]


def _which_name(
    r: _Records, hit: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Split hit rows between first and last name (half each)."""
    first = r.uniforms(f"{name}_column") < 0.5
    return np.flatnonzero(hit & first), np.flatnonzero(hit & ~first)


def _edit_names(
    r: _Records,
    hit: np.ndarray,
    name: str,
    edit: Callable[[np.ndarray, np.ndarray], np.ndarray],
    k: int,
) -> np.ndarray:
    touched = np.zeros(len(r.rows), bool)
    u = r.uniforms(f"{name}_detail", k)
    for column, rows in zip(
        ("first_name", "last_name"), _which_name(r, hit, name), strict=True
    ):
        rows = rows[r.present(column)[rows]]
        old = r.strings(column, rows)
        new = edit(old, u[rows])
        changed = new != old
        r.set_strings(column, rows[changed], new[changed])
        touched[rows[changed]] = True
    return touched


def _err_duplicate(r: _Records, hit: np.ndarray) -> np.ndarray:
    idx = np.repeat(np.arange(len(r.rows)), 1 + hit.astype(np.int64))
    copy = np.zeros(len(idx), bool)
    copy[1:] = idx[1:] == idx[:-1]
    r.take(idx)
    return copy


def _err_wrong_person(r: _Records, hit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(hit)
    other = r.other_member(r.uniforms("wrong_person_who"))[rows]
    for col in _COPIED_ON_WRONG_PERSON:
        if (
            col in ("nhs_number", "ni_number", "upn")
            and col not in HELD_IDENTIFIERS[r.source]
        ):
            continue
        if col == "dob":
            dob = r.rows[col].copy()
            dob[rows] = r.chunk.people[col].to_numpy()[other]
            r.rows[col] = dob
        else:
            r.set_codes(col, rows, r.chunk.identity(col).codes[other])
    return hit  # every household has at least two members, so it always changes


def _err_stale_address(r: _Records, hit: np.ndarray) -> np.ndarray:
    moved = r.chunk.households["moved_recently"].to_numpy()[r.h_pos]
    rows = np.flatnonzero(hit & moved)
    for col in ("address", "postcode"):
        r.set_codes(col, rows, r.chunk.previous_code(col, r.h_pos[rows]))
    return hit & moved


def _err_name_swap(r: _Records, hit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(hit & r.present("first_name") & r.present("last_name"))
    first, last = r.strings("first_name", rows), r.strings("last_name", rows)
    r.set_strings("first_name", rows, last)
    r.set_strings("last_name", rows, first)
    touched = np.zeros(len(r.rows), bool)
    touched[rows] = first != last
    return touched


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


def _err_nickname(r: _Records, hit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(hit & r.present("first_name"))
    names = r.strings("first_name", rows)
    has = np.isin(names, _NICK_NAMES)
    rows, names = rows[has], names[has]
    u = r.uniforms("nickname_which")[rows]
    which = np.searchsorted(_NICK_NAMES, names)
    k = np.floor(u * _NICK_COUNT[which]).astype(np.int64)
    r.set_strings("first_name", rows, _NICK_OPTIONS[which, k])
    touched = np.zeros(len(r.rows), bool)
    touched[rows] = True
    return touched


def _err_transliteration(r: _Records, hit: np.ndarray) -> np.ndarray:
    return _edit_names(
        r, hit, "transliteration", lambda v, u: rewrite(v, TRANSLITERATION_RULES, u), 1
    )


def _err_surname_change(r: _Records, hit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(hit & r.present("last_name"))
    eth = np.asarray(
        r.chunk.households["ethnicity"].array.take(r.h_pos[rows]), dtype=str
    )
    other = identity.name_vocabulary()[
        identity.sample_names(eth, "last", r.uniforms("surname_change_name")[rows])
    ]
    old = r.strings("last_name", rows)
    hyphen = r.uniforms("surname_change_kind")[rows] < 0.5
    new = np.where(hyphen, np.strings.add(np.strings.add(old, "-"), other), other)
    changed = new != old
    r.set_strings("last_name", rows[changed], new[changed])
    touched = np.zeros(len(r.rows), bool)
    touched[rows[changed]] = True
    return touched


def _err_name_typo(r: _Records, hit: np.ndarray) -> np.ndarray:
    return _edit_names(r, hit, "name_typo", typo, 3)


def _err_name_ocr(r: _Records, hit: np.ndarray) -> np.ndarray:
    return _edit_names(r, hit, "name_ocr", ocr, 2)


def _err_name_phonetic(r: _Records, hit: np.ndarray) -> np.ndarray:
    return _edit_names(
        r, hit, "name_phonetic", lambda v, u: rewrite(v, PHONETIC_RULES, u), 1
    )


def _missing(column: str) -> Callable[[_Records, np.ndarray], np.ndarray]:
    def apply(r: _Records, hit: np.ndarray) -> np.ndarray:
        touched = hit & r.present(column)
        rows = np.flatnonzero(touched)
        if isinstance(r.rows[column], Strings):
            r.set_strings(column, rows, None)
        else:
            values = r.rows[column].copy()
            values[rows] = np.datetime64("NaT")
            r.rows[column] = values
        return touched

    return apply


def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = dates.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = (d.astype("datetime64[M]") - d.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, day


def _from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    month = (y - 1970) * 12 + (m - 1)
    return (month.astype("datetime64[M]").astype("datetime64[D]") + (d - 1)).astype(
        "datetime64[s]"
    )


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    start = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(
        np.int64
    )


def _dob_error(kind: str) -> Callable[[_Records, np.ndarray], np.ndarray]:
    def apply(r: _Records, hit: np.ndarray) -> np.ndarray:
        dob = r.rows["dob"].copy()
        ok = hit & ~np.isnat(dob)
        rows = np.flatnonzero(ok)
        y, m, d = _ymd(dob[rows])
        u = r.uniforms(f"{kind}_detail", 2)[rows]
        if kind == "dob_day_month_swap":
            can = (d <= 12) & (d != m)
            y2, m2, d2 = y, np.where(can, d, m), np.where(can, m, d)
        elif kind == "dob_digit":
            digit = np.floor(u[:, 1] * 9).astype(np.int64)  # 0..8, skip own digit below
            which = np.floor(u[:, 0] * 3).astype(np.int64)  # 0 day, 1 month, 2 year

            def change(v: np.ndarray) -> np.ndarray:
                last = v % 10
                return v - last + np.where(digit >= last, digit + 1, digit)

            d2 = np.where(which == 0, change(d), d)
            m2 = np.where(which == 1, change(m), m)
            y2 = np.where(which == 2, change(y), y)
            can = (m2 >= 1) & (m2 <= 12) & (d2 >= 1)
            can &= d2 <= _days_in_month(y2, np.clip(m2, 1, 12))
        else:  # dob_year
            step = np.where(u[:, 0] < 0.8, 1, 10) * np.where(u[:, 1] < 0.5, -1, 1)
            y2, m2 = y + step, m
            d2 = np.minimum(d, _days_in_month(y2, m))
            can = np.ones(len(rows), bool)
        dob[rows[can]] = _from_ymd(y2[can], m2[can], d2[can])
        r.rows["dob"] = dob
        touched = np.zeros(len(r.rows), bool)
        touched[rows[can]] = True
        return touched

    return apply


def _err_sex_wrong(r: _Records, hit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(hit & r.present("sex"))
    old = r.strings("sex", rows)
    r.set_strings("sex", rows, np.where(old == "F", "M", "F"))
    touched = np.zeros(len(r.rows), bool)
    touched[rows] = True
    return touched


def _err_postcode_typo(r: _Records, hit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(hit & r.present("postcode"))
    old = r.strings("postcode", rows)
    m = _matrix(old)
    u = r.uniforms("postcode_typo_detail", 2)[rows]
    pos = _pick_position(_KEY_COUNT[np.minimum(m, 0x1FFF)] > 0, u[:, 0])
    new = _strings(_substitute(m, pos, _KEY_OPTS, _KEY_COUNT, u[:, 1]))
    changed = new != old
    r.set_strings("postcode", rows[changed], new[changed])
    touched = np.zeros(len(r.rows), bool)
    touched[rows[changed]] = True
    return touched


def _id_wrong(column: str) -> Callable[[_Records, np.ndarray], np.ndarray]:
    def apply(r: _Records, hit: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(hit & r.present(column))
        old = r.strings(column, rows)
        u = r.uniforms(f"{column}_wrong_detail", 3)[rows]
        other = r.other_member(r.uniforms(f"{column}_wrong_who"))[rows]
        borrowed = r.chunk.identity(column).values(other)
        # Half take a household member's identifier, the rest mistype one character.
        m = _matrix(old)
        length = (m != 0).sum(axis=1)
        pos = np.minimum(
            np.floor(u[:, 1] * length).astype(np.int64), np.maximum(length - 1, 0)
        )
        _substitute(m, np.where(length > 0, pos, -1), _KEY_OPTS, _KEY_COUNT, u[:, 2])
        mistyped = _strings(m)
        new = np.where((u[:, 0] < 0.5) & (borrowed != ""), borrowed, mistyped)
        changed = new != old
        r.set_strings(column, rows[changed], new[changed])
        touched = np.zeros(len(r.rows), bool)
        touched[rows[changed]] = True
        return touched

    return apply


APPLY: dict[str, Callable[[_Records, np.ndarray], np.ndarray]] = {
    "duplicate": _err_duplicate,
    "wrong_person": _err_wrong_person,
    "stale_address": _err_stale_address,
    "name_swap": _err_name_swap,
    "nickname": _err_nickname,
    "transliteration": _err_transliteration,
    "surname_change": _err_surname_change,
    "name_typo": _err_name_typo,
    "name_ocr": _err_name_ocr,
    "name_phonetic": _err_name_phonetic,
    "first_name_missing": _missing("first_name"),
    "dob_day_month_swap": _dob_error("dob_day_month_swap"),
    "dob_digit": _dob_error("dob_digit"),
    "dob_year": _dob_error("dob_year"),
    "dob_missing": _missing("dob"),
    "sex_wrong": _err_sex_wrong,
    "postcode_typo": _err_postcode_typo,
    "postcode_missing": _missing("postcode"),
    **{
        f"{short}_{kind}": (_missing(col) if kind == "missing" else _id_wrong(col))
        for short, col in _ID_COLUMNS.items()
        for kind in ("missing", "wrong")
    },
}
"""The function applying each error, in :data:`ERRORS` order (a test checks)."""


def error_applies(error: str, source: str) -> bool:
    """Identifier errors apply only where the source holds the identifier."""
    for short, col in _ID_COLUMNS.items():
        if error.startswith(f"{short}_"):
            return col in HELD_IDENTIFIERS[source]
    return True


def corrupt(
    records: Rows,
    chunk: PopulationChunk,
    source: str,
    rates: ErrorRates,
    multipliers: tuple[ErrorMultiplier, ...] = (),
) -> Rows:
    """Return a corrupted copy of a source's records with one ``err_<name>`` per error.

    ``records`` must be sorted by ``true_household_id`` and hold the true identity of
    ``true_person_id`` (as made by the agency modules); they are not changed.
    """
    r = _Records(records.copy(), chunk, source, ("corruption", source))
    flags: dict[str, np.ndarray] = {}
    for error in ERRORS:
        base = getattr(rates, error)
        if base <= 0 or not error_applies(error, source) or len(r.rows) == 0:
            flags[error] = np.zeros(len(r.rows), bool)
            continue
        if error in HOUSEHOLD_LEVEL:
            u = chunk.streams("corruption", source, error).random(chunk.h_counts)[
                r.h_pos
            ]
        else:
            u = r.uniforms(error)
        hit = u < r.rates(error, base, multipliers)
        touched = APPLY[error](r, hit)
        if error == "duplicate":
            flags = {
                k: v[np.repeat(np.arange(len(v)), 1 + hit)] for k, v in flags.items()
            }
        flags[error] = touched
    out = r.rows
    for error in ERRORS:
        out[f"err_{error}"] = flags[error]
    return out
