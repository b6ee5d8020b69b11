"""Workflow commands (`::error title=...::message`), escaped as GitHub's runner parses them."""

from __future__ import annotations


def workflow_data(text: str) -> str:
    """Escape the message part of a workflow command (`::error ...::<data>`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """Escape a property value of a workflow command (`title=<value>`)."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, title: str, message: str) -> str:
    """A workflow command such as `::error title=...::message`, escaped per GitHub's rules."""
    return f"::{level} title={workflow_property(title)}::{workflow_data(message)}"
