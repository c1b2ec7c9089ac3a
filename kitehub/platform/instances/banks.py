"""Vietnamese bank BINs accepted for VietQR (from the State Bank of Vietnam list, vn_banks.csv)."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class Bank:
    bin: str
    code: str
    short_name: str


@functools.cache
def banks_by_bin() -> dict[str, Bank]:
    with resources.files("kitehub.platform.instances").joinpath("vn_banks.csv").open(encoding="utf-8") as handle:
        return {row["bin"]: Bank(row["bin"], row["code"], row["short_name"]) for row in csv.DictReader(handle)}
