"""The package version (the same as ``pyproject.toml``'s), for ``convsim --version`` and every manifest."""

__version__ = "0.1.0"
