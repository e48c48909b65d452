"""A small synthetic world for linkage tests: people, agency records and a spine.

Independent of the simulator's generator on purpose (the linkage stage is tested on
its own contract). Everything is vectorised with numpy and pyarrow; Faker is only a
source of name lists.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator.frames import STRING
from simulator.world.identity import nhs_numbers, ni_numbers, upns
from simulator.world.records import HELD_IDENTIFIERS, IDENTITY_COLUMNS

SOURCES = ("health", "education", "police", "benefits", "social_care")
ERRORS = (
    "name_typo",
    "name_swap",
    "surname_change",
    "first_name_missing",
    "dob_day_month_swap",
    "dob_digit",
    "dob_missing",
    "sex_wrong",
    "stale_address",
    "postcode_missing",
    "nhs_missing",
    "nhs_wrong",
    "wrong_person",
)
# (locale, weight) for first names and surnames: mostly English, some with
# diacritics and non-English structure.
LOCALES = (
    ("en_GB", 0.55),
    ("en_IE", 0.1),
    ("pl_PL", 0.05),
    ("en_IN", 0.1),
    ("yo_NG", 0.05),
    ("tr_TR", 0.05),
    ("es_ES", 0.05),
    ("cs_CZ", 0.05),
)
SURNAME_FALLBACK = {"pl_PL": "cs_CZ"}


@cache
def names(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Names of ``kind`` ('male', 'female', 'last') and their sampling weights."""
    out: dict[str, float] = {}
    for locale, share in LOCALES:
        loc = SURNAME_FALLBACK.get(locale, locale) if kind == "last" else locale
        p = importlib.import_module(f"faker.providers.person.{loc}").Provider
        raw = p.last_names if kind == "last" else getattr(p, f"first_names_{kind}")
        if isinstance(raw, dict):
            keys, w = list(raw), np.array(list(raw.values()), dtype=float)
        else:
            keys = list(dict.fromkeys(raw))
            w = 1.0 / (np.arange(len(keys)) + 10.0)
        for k, v in zip(keys, share * w / w.sum(), strict=True):
            out[k] = out.get(k, 0.0) + v
    vals = np.array(list(out), dtype=object)
    p = np.fromiter(out.values(), dtype=float)
    return vals, p / p.sum()


def draw_names(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    vals, p = names(kind)
    return vals[rng.choice(len(vals), size=n, p=p)]


@dataclass(frozen=True)
class World:
    households: pd.DataFrame
    people: pd.DataFrame
    sources: dict[str, pd.DataFrame]
    spine: pd.DataFrame


def _postcodes(area: np.ndarray, unit: np.ndarray) -> np.ndarray:
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    district = area // 10 + 1
    sector = area % 10
    out = pc.binary_join_element_wise(
        "Q",
        pa.array(np.array(list("ABCDEFGH"))[district // 100 % 8]),
        pa.array((district % 100).astype(str)),
        " ",
        pa.array(sector.astype(str)),
        pa.array(letters[unit // 20 % 20]),
        pa.array(letters[unit % 20]),
        "",
    )
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=object)


def make_people(
    n_households: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households (with group columns) and people with true identities."""
    hid = np.arange(n_households, dtype=np.int64) + 1
    households = pd.DataFrame(
        {
            "household_id": hid,
            "ethnicity": rng.choice(
                ["white", "asian", "black", "mixed", "other"],
                n_households,
                p=[0.8, 0.1, 0.04, 0.03, 0.03],
            ),
            "imd_decile": rng.integers(1, 11, n_households).astype(np.int8),
            "tenure": rng.choice(
                ["owner", "private_rent", "social_rent"],
                n_households,
                p=[0.58, 0.22, 0.2],
            ),
        }
    )
    adults = rng.choice([1, 2], n_households, p=[0.25, 0.75])
    children = rng.integers(1, 5, n_households)
    size = adults + children
    h = np.repeat(np.arange(n_households), size)
    first_of_h = np.repeat(np.cumsum(size) - size, size)
    member = np.arange(len(h)) - first_of_h
    is_adult = member < adults[h]
    n = len(h)
    sex = np.where(
        is_adult & (member == 0), "F", np.where(rng.random(n) < 0.5, "F", "M")
    )
    first = np.where(
        sex == "F", draw_names(rng, "female", n), draw_names(rng, "male", n)
    )
    surname_h = draw_names(rng, "last", n_households)
    own = draw_names(rng, "last", n)
    last = np.where(rng.random(n) < 0.9, surname_h[h], own)
    day = rng.integers(0, 365 * 35, n)
    dob = np.where(
        is_adult,
        np.datetime64("1965-01-01") + day,
        np.datetime64("2005-01-01") + day % (365 * 20),
    )
    # Twins: a child shares the previous member's date of birth.
    twin = (~is_adult) & (member > adults[h]) & (rng.random(n) < 0.04)
    dob = np.where(twin, np.roll(dob, 1), dob).astype("datetime64[s]")
    area = h // 50
    unit = h % 50 // 4
    pid = np.arange(n, dtype=np.int64) + 1
    people = pd.DataFrame(
        {
            "person_id": pid,
            "household_id": hid[h],
            "adult": is_adult,
            "first_name": pd.array(first, dtype=STRING),
            "last_name": pd.array(last, dtype=STRING),
            "sex": pd.array(sex, dtype=STRING),
            "dob": dob,
            "address": pd.array(
                np.char.add((h % 97 * 2 + 1).astype(str), " High Street").astype(
                    object
                ),
                dtype=STRING,
            ),
            "postcode": pd.array(_postcodes(area, unit), dtype=STRING),
            "nhs_number": pd.array(nhs_numbers(pid, 17), dtype=STRING),
            "ni_number": pd.array(
                np.where(
                    is_adult,
                    np.asarray(ni_numbers(pid, 5).to_numpy(zero_copy_only=False)),
                    None,
                ),
                dtype=STRING,
            ),
            "upn": pd.array(
                np.where(
                    is_adult,
                    None,
                    np.asarray(upns(pid, 3).to_numpy(zero_copy_only=False)),
                ),
                dtype=STRING,
            ),
        }
    )
    return households, people


def _records_of(
    people: pd.DataFrame, pick: np.ndarray, n_events: np.ndarray, source: str
) -> pd.DataFrame:
    rows = np.repeat(np.flatnonzero(pick), n_events[pick])
    p = people.iloc[rows].reset_index(drop=True)
    held = HELD_IDENTIFIERS[source]
    out = pd.DataFrame(
        {
            "record_id": np.arange(len(p), dtype=np.int64) + 10_000,
            "source": pd.array([source] * len(p), dtype=STRING),
            "event_type": pd.array(["contact"] * len(p), dtype=STRING),
            "event_date": np.datetime64("2025-06-01", "s")
            + np.arange(len(p)) % 300 * np.timedelta64(86400, "s"),
            "absence_rate": np.where(source == "education", 0.05, np.nan),
        }
    )
    for col in IDENTITY_COLUMNS:
        if col in ("nhs_number", "ni_number", "upn") and col not in held:
            out[col] = pd.array([None] * len(p), dtype=STRING)
        else:
            out[col] = p[col].to_numpy() if col == "dob" else p[col].array
    out["true_person_id"] = p["person_id"].to_numpy()
    out["true_household_id"] = p["household_id"].to_numpy()
    return out


def _swap_letters(s: pd.Series) -> pd.Series:
    arr = pa.array(s.array).cast(pa.string())
    out = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(arr, 0, 1),
        pc.utf8_slice_codeunits(arr, 2, 3),
        pc.utf8_slice_codeunits(arr, 1, 2),
        pc.utf8_slice_codeunits(arr, 3),
        "",
    )
    return pd.Series(pd.array(out, dtype=STRING), index=s.index)


def corrupt(
    frame: pd.DataFrame, people: pd.DataFrame, rate: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Apply each error of ERRORS to a share ``rate`` of rows; record err_ columns."""
    out = frame.copy()
    n = len(out)
    for err in ERRORS:  # error kinds, not rows
        hit = rng.random(n) < rate
        if err == "name_typo":
            out.loc[hit, "last_name"] = _swap_letters(out.loc[hit, "last_name"])
        elif err == "name_swap":
            a = out.loc[hit, "first_name"].copy()
            out.loc[hit, "first_name"] = out.loc[hit, "last_name"]
            out.loc[hit, "last_name"] = a
        elif err == "surname_change":
            out.loc[hit, "last_name"] = draw_names(rng, "last", int(hit.sum()))
        elif err == "first_name_missing":
            out.loc[hit, "first_name"] = pd.NA
        elif err == "dob_day_month_swap":
            d = out["dob"]
            hit &= (d.dt.day <= 12).to_numpy() & (d.dt.day != d.dt.month).to_numpy()
            sw = pd.to_datetime(
                pd.DataFrame({"year": d.dt.year, "month": d.dt.day, "day": d.dt.month})[
                    hit
                ]
            )
            out.loc[hit, "dob"] = sw.astype("datetime64[s]")
        elif err == "dob_digit":
            out.loc[hit, "dob"] = out.loc[hit, "dob"] + pd.Timedelta(days=10)
        elif err == "dob_missing":
            out.loc[hit, "dob"] = pd.NaT
        elif err == "sex_wrong":
            out.loc[hit, "sex"] = out.loc[hit, "sex"].map({"M": "F", "F": "M"})
        elif err == "stale_address":
            other = people.sample(
                int(hit.sum()), replace=True, random_state=int(rng.integers(2**31))
            )
            out.loc[hit, "postcode"] = other["postcode"].to_numpy()
            out.loc[hit, "address"] = other["address"].to_numpy()
        elif err == "postcode_missing":
            out.loc[hit, "postcode"] = pd.NA
        elif err == "nhs_missing":
            hit &= out["nhs_number"].notna().to_numpy()
            out.loc[hit, "nhs_number"] = pd.NA
        elif err == "nhs_wrong":
            hit &= out["nhs_number"].notna().to_numpy()
            other = people["nhs_number"].sample(
                int(hit.sum()), replace=True, random_state=int(rng.integers(2**31))
            )
            out.loc[hit, "nhs_number"] = other.to_numpy()
        elif err == "wrong_person" and "true_person_id" in out:
            # The identity of someone else in the same household.
            pos = np.searchsorted(
                people["person_id"].to_numpy(), out["true_person_id"].to_numpy()
            )
            nxt = np.minimum(pos + 1, len(people) - 1)
            same = (
                people["household_id"].to_numpy()[nxt]
                == people["household_id"].to_numpy()[pos]
            )
            hit &= same
            for col in ("first_name", "sex", "dob"):  # columns, not rows
                out.loc[hit, col] = people[col].to_numpy()[nxt[hit]]
        else:
            hit[:] = False  # an error this frame cannot have
        out[f"err_{err}"] = hit
    return out


def make_world(
    n_households: int,
    seed: int,
    *,
    error_rate: float = 0.0,
    spine_coverage: float = 0.97,
    spine_duplicates: float = 0.0,
) -> World:
    """Households, people, five agencies' records and a spine.

    Parameters
    ----------
    n_households : int
        Number of households (about 3.5 people each).
    seed : int
        Seed of every draw.
    error_rate : float
        Rate of each error kind in records and the spine (0: identical identities).
    spine_coverage : float
        Probability that a person is on the spine.
    spine_duplicates : float
        Probability that a spine person has a second spine row.
    """
    rng = np.random.default_rng(seed)
    households, people = make_people(n_households, rng)
    n = len(people)
    school_age = (people["dob"] >= np.datetime64("2007-09-01")).to_numpy() & (
        people["dob"] <= np.datetime64("2021-08-31")
    ).to_numpy()
    adult = people["adult"].to_numpy()
    plan = {
        "health": (rng.random(n) < 0.97, 1 + rng.poisson(1.0, n)),
        "education": (school_age & (rng.random(n) < 0.98), 1 + rng.poisson(0.3, n)),
        "police": (rng.random(n) < 0.08, 1 + rng.poisson(1.0, n)),
        "benefits": (adult & (rng.random(n) < 0.3), np.ones(n, dtype=np.int64)),
        "social_care": (~adult & (rng.random(n) < 0.06), 1 + rng.poisson(0.5, n)),
    }
    sources = {}
    for name, (pick, events) in plan.items():
        rec = _records_of(people, pick, events, name)
        sources[name] = corrupt(rec, people, error_rate, rng)

    on = rng.random(n) < spine_coverage
    dup = on & (rng.random(n) < spine_duplicates)
    rows = np.concatenate([np.flatnonzero(on), np.flatnonzero(dup)])
    p = people.iloc[rows].reset_index(drop=True)
    spid = rng.permutation(len(p)).astype(np.int64) + 500_000
    hh_codes = pd.factorize(p["household_id"])[0]
    spine = pd.DataFrame(
        {
            "spine_person_id": spid,
            "spine_household_id": (hh_codes * 7 + 900_000).astype(np.int64),
        }
    )
    for col in IDENTITY_COLUMNS:
        spine[col] = p[col].to_numpy() if col == "dob" else p[col].array
    spine["true_person_id"] = p["person_id"].to_numpy()
    spine["true_household_id"] = p["household_id"].to_numpy()
    spine = corrupt(spine, people, error_rate / 2, rng)
    spine["err_duplicate"] = np.arange(len(spine)) >= on.sum()
    return World(households, people, sources, spine)
