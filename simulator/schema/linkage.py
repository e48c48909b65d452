"""The ``linkage`` scenario section: which method links records to the spine, and how.

Everything here is plain data (pydantic models of strings, numbers and tuples), so a
scenario file states a match key or a Splink comparison without importing Splink.
:mod:`simulator.council.linkage.probabilistic` maps the Splink parts to Splink objects,
and
:mod:`simulator.council.linkage.deterministic` turns match keys into SQL.

Column "recipes" (:data:`Recipe`) name the normalised identity fields that match keys,
blocking rules and comparisons use; :mod:`simulator.council.linkage.normalise` computes
them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.schema.section import Section

Recipe = Literal[
    "nhs_number",
    "ni_number",
    "upn",
    "first_name",
    "last_name",
    "first_initial",
    "first_name_soundex",
    "last_name_soundex",
    "last_name_first_part",
    "names_unordered",
    "sex",
    "dob",
    "dob_year",
    "dob_unordered",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "address",
]
"""A normalised identity field (see
:data:`simulator.council.linkage.normalise.RECIPES`)."""

Method = Literal["deterministic", "splink", "oracle"]
Probability = Annotated[float, Field(gt=0.0, lt=1.0)]
Columns = Annotated[tuple[Recipe, ...], Field(min_length=1)]


def _distinct(columns: tuple[str, ...], what: str) -> tuple[str, ...]:
    if len(set(columns)) != len(columns):
        raise ValueError(f"{what} lists a column twice: {list(columns)}")
    return columns


class MatchKey(Section):
    """One step of the deterministic cascade.

    Records and spine rows agreeing exactly on every column (none of them missing)
    are candidate links.
    """

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        description="Short name, reported in the links table's match_key column.",
    )
    columns: Columns = Field(description="Normalised columns that must all agree.")

    @field_validator("columns")
    @classmethod
    def _no_repeats(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _distinct(v, "a match key")


def _key(name: str, *columns: str) -> MatchKey:
    return MatchKey(name=name, columns=columns)  # type: ignore[arg-type]


DEFAULT_MATCH_KEYS: tuple[MatchKey, ...] = (
    # National identifiers, confirmed by date of birth (ONS and NHS practice).
    _key("nhs_dob", "nhs_number", "dob"),
    _key("ni_dob", "ni_number", "dob"),
    _key("upn_dob", "upn", "dob"),
    # Full identity, then dropping the address (people move; addresses go stale).
    _key("name_dob_postcode", "first_name", "last_name", "dob", "postcode"),
    _key("name_dob", "first_name", "last_name", "dob"),
    # An identifier with a wrong or missing date of birth, confirmed by the surname.
    _key("nhs_surname", "nhs_number", "last_name_soundex"),
    _key("ni_surname", "ni_number", "last_name_soundex"),
    _key("upn_surname", "upn", "last_name_soundex"),
    # Common recording errors, one at a time.
    _key("name_dob_swapped", "first_name", "last_name", "dob_unordered"),
    _key("names_swapped_dob", "names_unordered", "dob"),
    _key(
        "soundex_dob_sector",
        "first_name_soundex",
        "last_name_soundex",
        "dob",
        "postcode_sector",
    ),
    _key(
        "initial_surname_dob_sector",
        "first_initial",
        "last_name",
        "dob",
        "postcode_sector",
    ),
    _key("hyphen_surname_dob", "first_name", "last_name_first_part", "dob"),
    _key("first_name_dob_postcode", "first_name", "dob", "postcode"),
    _key("name_year_postcode", "first_name", "last_name", "dob_year", "postcode"),
    _key("name_sex_postcode", "first_name", "last_name", "sex", "postcode"),
)
"""The default cascade, strictest first. See docs/linkage.md for the sources."""


class DeterministicConfig(Section):
    """An ordered cascade of exact match keys (ONS / NHS style)."""

    keys: tuple[MatchKey, ...] = Field(
        default=DEFAULT_MATCH_KEYS,
        min_length=1,
        description="Match keys in the order tried; a record linked by an earlier "
        "key is not tried again.",
    )
    ties: Literal["drop", "first"] = Field(
        "drop",
        description="When a key matches several spine persons: 'drop' leaves the "
        "record for the next key (and unlinked if none is unique), as a council "
        "refers ambiguous matches to clerical review; 'first' links to the lowest "
        "spine_person_id.",
    )

    @field_validator("keys")
    @classmethod
    def _unique_names(cls, v: tuple[MatchKey, ...]) -> tuple[MatchKey, ...]:
        names = [k.name for k in v]
        if len(set(names)) != len(names):
            raise ValueError(f"match key names must be unique, got {names}")
        return v


ComparisonKind = Literal[
    "exact",
    "jaro_winkler",
    "jaro",
    "levenshtein",
    "damerau_levenshtein",
    "date",
    "postcode",
]


class ComparisonSpec(Section):
    """One Splink comparison, as plain data.

    ``kind`` picks a comparison from ``splink.comparison_library``:

    - ``exact``: ExactMatch (null, exact, else); no thresholds.
    - ``jaro_winkler`` / ``jaro``: similarity thresholds in (0, 1], descending.
    - ``levenshtein`` / ``damerau_levenshtein``: edit distances >= 1, ascending.
    - ``date``: DateOfBirthComparison; thresholds are day differences, ascending
      (levels: exact, one character different, within each threshold, else).
    - ``postcode``: PostcodeComparison (full, sector, district, area); no thresholds.
    """

    column: Recipe = Field(description="Normalised column compared.")
    kind: ComparisonKind = Field(description="Comparison function.")
    thresholds: tuple[float, ...] = Field(
        default=(), description="Level thresholds, most similar first."
    )
    term_frequency: bool = Field(
        False,
        description="Term-frequency adjustment of the exact-match level: agreeing on "
        "a rare value counts for more than agreeing on a common one.",
    )

    @model_validator(mode="after")
    def _check_thresholds(self) -> ComparisonSpec:
        t = self.thresholds
        if self.kind in ("exact", "postcode"):
            if t:
                raise ValueError(
                    f"kind {self.kind!r} takes no thresholds, got {list(t)}"
                )
        elif not t:
            raise ValueError(f"kind {self.kind!r} needs at least one threshold")
        elif self.kind in ("jaro_winkler", "jaro"):
            if not all(0.0 < x <= 1.0 for x in t) or list(t) != sorted(t, reverse=True):
                raise ValueError(
                    f"{self.kind} thresholds must be in (0, 1] and descending, "
                    f"got {list(t)}"
                )
        elif not all(x >= 1 and float(x).is_integer() for x in t) or list(t) != sorted(
            set(t)
        ):
            raise ValueError(
                f"{self.kind} thresholds must be whole numbers >= 1, ascending, "
                f"got {list(t)}"
            )
        return self


def _cmp(
    column: str, kind: str, *thresholds: float, tf: bool = False
) -> ComparisonSpec:
    return ComparisonSpec(
        column=column,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        thresholds=thresholds,
        term_frequency=tf,
    )


DEFAULT_COMPARISONS: tuple[ComparisonSpec, ...] = (
    _cmp("first_name", "jaro_winkler", 0.92, 0.8, tf=True),
    _cmp("last_name", "jaro_winkler", 0.92, 0.8, tf=True),
    _cmp("dob", "date", 31, 366),
    _cmp("postcode", "postcode"),
    _cmp("sex", "exact"),
    _cmp("nhs_number", "exact"),
    _cmp("ni_number", "exact"),
    _cmp("upn", "exact"),
)

DEFAULT_BLOCKING_RULES: tuple[tuple[Recipe, ...], ...] = (
    ("nhs_number",),
    ("ni_number",),
    ("upn",),
    ("dob", "last_name_soundex"),
    ("dob", "first_name_soundex"),
    ("postcode", "dob"),
    ("postcode", "first_initial"),
    ("first_name", "last_name", "dob_year"),
)


class SplinkConfig(Section):
    """Probabilistic (Fellegi-Sunter) linkage with Splink on DuckDB."""

    blocking_rules: tuple[Columns, ...] = Field(
        default=DEFAULT_BLOCKING_RULES,
        min_length=1,
        description="Pairs to score: a record and a spine row agreeing on every column "
        "of at least one rule. Each rule is a list of columns (Splink block_on).",
    )
    comparisons: tuple[ComparisonSpec, ...] = Field(
        default=DEFAULT_COMPARISONS,
        min_length=1,
        description="How each field's agreement is scored.",
    )
    match_threshold: Probability = Field(
        0.9,
        description="Match probability at or above which a pair is a link; each "
        "record then keeps its most probable spine person.",
    )
    max_pairs: Annotated[int, Field(ge=10_000, le=10**10)] = Field(
        5_000_000,
        description="Random record pairs sampled to estimate u probabilities.",
    )
    em_blocking_rules: tuple[Columns, ...] = Field(
        default=(("first_name", "last_name"), ("dob",)),
        min_length=1,
        description="One expectation-maximisation session per rule, estimating m "
        "for every comparison not on the rule's columns.",
    )
    em_max_pairs: Annotated[int, Field(ge=10_000, le=10**10)] | None = Field(
        2_000_000,
        description="Cap on the pairs each EM session uses (None: all blocked pairs).",
    )
    max_iterations: Annotated[int, Field(ge=1, le=1_000)] = Field(
        25, description="Maximum EM iterations per session."
    )
    probability_two_random_records_match: Probability | None = Field(
        None,
        description="Prior that a random record-spine pair is a match; None uses "
        "1 / (number of spine rows), since each record concerns one person.",
    )
    max_blocked_pairs: Annotated[int, Field(ge=1)] = Field(
        200_000_000,
        description="Refuse to score more pairs than this (before deduplication "
        "across rules): tighten the blocking rules instead.",
    )

    @field_validator("blocking_rules", "em_blocking_rules")
    @classmethod
    def _rules_distinct(
        cls, v: tuple[tuple[str, ...], ...]
    ) -> tuple[tuple[str, ...], ...]:
        for rule in v:
            _distinct(rule, "a blocking rule")
        return v

    @field_validator("comparisons")
    @classmethod
    def _one_per_column(
        cls, v: tuple[ComparisonSpec, ...]
    ) -> tuple[ComparisonSpec, ...]:
        cols = [c.column for c in v]
        if len(set(cols)) != len(cols):
            raise ValueError(f"at most one comparison per column, got {cols}")
        return v


class LinkageConfig(Section):
    """How the council links every agency's records to its family index (the spine).

    The default method is ``deterministic``: a match-key cascade is what most councils
    run for Supporting Families, it is fast at any scale, and its errors are easy to
    explain. ``splink`` is probabilistic linkage; ``oracle`` uses the true links (for
    attribution: what would happen with perfect linkage).
    """

    method: Method = Field("deterministic", description="Linkage method.")
    memory_limit_gb: Annotated[float, Field(ge=0.25, le=1024)] | None = Field(
        2.0,
        description="Memory DuckDB may use for linkage before it spills to disk "
        "(null: DuckDB's default, 80% of RAM). Never changes the links.",
    )
    deterministic: DeterministicConfig = Field(default_factory=DeterministicConfig)
    splink: SplinkConfig = Field(default_factory=SplinkConfig)

    def recipes(self) -> tuple[Recipe, ...]:
        """The normalised columns the chosen method needs, in a stable order."""
        if self.method == "deterministic":
            cols = [c for k in self.deterministic.keys for c in k.columns]
        elif self.method == "splink":
            s = self.splink
            cols = [c for rule in s.blocking_rules for c in rule]
            cols += [c for rule in s.em_blocking_rules for c in rule]
            cols += [c.column for c in s.comparisons]
        else:
            cols = []
        return tuple(dict.fromkeys(cols))
