"""Loads the OpenAPI documents in spec/ and answers questions about them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

IDENTITY = "chime-sdk-identity"
ACCOUNTS = "chime-accounts"
APIS = (IDENTITY, ACCOUNTS)

_PACKAGED = Path(__file__).parent / "_spec"  # inside an installed wheel
_CHECKOUT = Path(__file__).parent.parent / "spec"  # in a source checkout


def spec_path(api: str) -> Path:
    """The path of the OpenAPI document of ``api`` (packaged copy first)."""
    if api not in APIS:
        raise ValueError(f"unknown API {api!r}; expected one of {APIS}")
    name = f"{api}.openapi.yaml"
    for folder in (_PACKAGED, _CHECKOUT):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is neither in {_PACKAGED} nor in {_CHECKOUT}")


@functools.cache
def load_document(api: str) -> dict[str, Any]:
    """The parsed OpenAPI document of ``api``, ``$ref``s left in place."""
    with spec_path(api).open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.safe_load(stream)
    return document
