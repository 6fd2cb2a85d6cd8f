"""Typed errors of the library; the CLI turns each into one line on stderr."""

import enum


class CredscoreError(Exception):
    """Base of every error the library raises on purpose."""


class InputError(CredscoreError):
    """Text or a file given by the user cannot be used."""


class LabelError(CredscoreError):
    """Labelled data is invalid (unknown label, duplicate id, conflict...)."""


class ModelError(CredscoreError):
    """A model folder is missing, corrupt, tampered with or incompatible."""


class ExitCode(enum.IntEnum):
    """Process exit codes of the ``credscore`` command."""

    OK = 0
    ERROR = 1
    USAGE = 2
    ROW_ERRORS = 3  # a batch finished, but some rows are error rows
    GATE_FAILED = 4  # a model fell short of a quality gate (promote, evaluate --min-...)
    INTERRUPTED = 130
