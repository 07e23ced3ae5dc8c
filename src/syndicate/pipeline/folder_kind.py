"""The folder kind's registration: the key of a folder source (``path``) and its gather.
Read with the settings, so the folder reader (``syndicate.pipeline.gathering``) is imported
only when a gather runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from syndicate.config.section import Section
from syndicate.pipeline.source_kinds import GatherRun, SourceKind

if TYPE_CHECKING:
    from syndicate.config import SourceSettings


class FolderSource(Section):
    path: str = Field(
        "",
        validate_default=True,
        description="Folder of .txt and .md articles, relative to the site folder.",
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a folder source needs path (its folder of articles)")
        return value


def _gather(
    run: GatherRun, sources: Sequence[SourceSettings], meanwhile: Callable[[], None]
) -> None:
    from syndicate.pipeline.gathering import gather_folders

    gather_folders(run, sources, meanwhile)


FOLDER: SourceKind[FolderSource] = SourceKind(
    "folder", "article files (.txt, .md) in a folder", _gather, FolderSource, by_title=True
)
