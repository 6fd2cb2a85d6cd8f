"""credscore: tell attributed reporting, opinion and disinformation-style text apart."""

__version__ = "0.1.0"

#: The label names, in the order every score vector uses.
LABELS: tuple[str, ...] = ("reporting", "opinion", "disinformation")
