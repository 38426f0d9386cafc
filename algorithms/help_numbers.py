"""Engine values written the way the help texts, tooltips and option labels write them.

The help states numbers that the engine holds (variant tables, defaults); the texts are filled from
those tables when the algorithm modules are built, with these functions, so a value is typed once.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_ORDINALS = ("zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_SHARES = {2: "half", 3: "third", 4: "quarter"}


def count(n: int) -> str:
    """An integer, thousands grouped by a space from 10 000 on (4500, 24 000, 100 000)."""
    n = int(n)
    return format(n, ",").replace(",", " ") if abs(n) >= 10_000 else str(n)


def word(n: int) -> str:
    """A small count in words (six), larger ones in digits."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else count(n)


def ordinal(n: int) -> str:
    """fourth; 11th, 21st, 22nd and above in digits."""
    if 0 <= n < len(_ORDINALS):
        return _ORDINALS[n]
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(n: int, noun: str, in_words: bool = False) -> str:
    """'4 restarts', 'one run' (``in_words``)."""
    return f"{word(n) if in_words else count(n)} {noun}{'' if n == 1 else 's'}"


def number(x: float) -> str:
    """A plain number as written in the help: 0.1, 1.01, 1, 0.1584."""
    return count(x) if float(x).is_integer() and abs(x) >= 10_000 else f"{x:g}"


def sci(x: float) -> str:
    """A learning rate as the papers write it: 1e-4, 3e-3."""
    mantissa, exponent = f"{x:.6e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def percent(fraction: float) -> str:
    """0.05 -> '5 %'."""
    return f"{fraction * 100:g} %"


def share(fraction: float) -> str:
    """A unit fraction in words (0.25 -> 'quarter'), else a percentage."""
    f = Fraction(fraction).limit_denominator(1000)
    return _SHARES[f.denominator] if f.numerator == 1 and f.denominator in _SHARES else percent(fraction)


def widths(units: Sequence[int], sep: str = " / ") -> str:
    """Layer widths: one number when all are equal (4096), else each (256 / 512 / 1024)."""
    units = [int(u) for u in units]
    return count(units[0]) if len(set(units)) == 1 else sep.join(count(u) for u in units)


def kernel_width(value, rule: str = "Silverman's rule") -> str:
    """A kernel width, or the rule that sets it when the engine's value is None or 'silverman'."""
    return rule if value in (None, "silverman") else number(value)
