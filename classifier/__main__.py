"""``python -m classifier``: the credscore command."""

from classifier.cli import main

main()
