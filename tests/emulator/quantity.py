"""Resource quantities (`500m`, `1Gi`, `2e3`) as exact amounts, printed back in the server's canonical form.

An amount is kept with the format of its suffix: binary (`Ki` ... `Ei`), decimal (`m`, `k`, `M`, ...,
or none) or an exponent (`e3`). The API server rounds up anything finer than a nano unit, prints
`0` for nothing, and prints a binary amount under 1024, or with a fraction, as a decimal one.
"""
import fractions
import math
import re
from dataclasses import dataclass

BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in DECIMAL.items()}
NUMBER = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$")
EXPONENT = re.compile(r"^[eE]([+-]?[0-9]+)$")
NANO = 10 ** 9


@dataclass(frozen=True)
class Quantity:
    amount: fractions.Fraction
    format: str = "DecimalSI"  # or "BinarySI", "DecimalExponent"

    def __add__(self, other):
        # A zero takes the format of what is added to it, as the server's Quantity.Add does.
        return Quantity(self.amount + other.amount, other.format if self.amount == 0 else self.format)

    def __str__(self):
        if self.amount == 0:
            return "0"
        if self.format == "BinarySI" and abs(self.amount) >= 1024 and self.amount.denominator == 1:
            number, power = int(self.amount), 0
            while number % 1024 == 0 and power < len(BINARY) - 1:
                number, power = number // 1024, power + 1
            return f"{number}{BINARY[power]}"
        number, exponent = int(self.amount * NANO), -9
        while number % 10 == 0:
            number, exponent = number // 10, exponent + 1
        # The exponent goes down to a multiple of three: 1500m, not 15e2m.
        number, exponent = number * 10 ** (exponent % 3), exponent - exponent % 3
        suffix = DECIMAL_SUFFIX.get(exponent) if self.format != "DecimalExponent" else None
        if suffix is None:
            suffix = f"e{exponent}" if exponent else ""
        return f"{number}{suffix}"


ZERO = Quantity(fractions.Fraction(0))
ONE = Quantity(fractions.Fraction(1))


def parse(value):
    """A Quantity from a string (or a JSON number); ValueError if it is not one."""
    match = NUMBER.match(str(value))
    sign, whole, decimals, suffix = match.groups() if match else ("", "", "", "")
    if not whole and not decimals:
        raise ValueError(f"not a quantity: {value!r}")
    number = fractions.Fraction(int(whole or "0"))
    if decimals:
        number += fractions.Fraction(int(decimals), 10 ** len(decimals))
    if suffix in BINARY[1:]:
        amount, fmt = number * 1024 ** BINARY.index(suffix), "BinarySI"
    elif suffix in DECIMAL:
        amount, fmt = number * fractions.Fraction(10) ** DECIMAL[suffix], "DecimalSI"
    elif EXPONENT.match(suffix):
        amount, fmt = number * fractions.Fraction(10) ** int(suffix[1:]), "DecimalExponent"
    else:
        raise ValueError(f"not a quantity: {value!r}")
    amount = fractions.Fraction(math.ceil(amount * NANO), NANO)
    return Quantity(-amount if sign == "-" else amount, fmt)
