"""The live loop: alert state, episodes and the sinks alerts go to."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from workbench._registry import SINKS
from workbench.settings.types import (
    Strict,
)


class SinkSettings(BaseModel):
    """One alert sink: a registered ``kind`` plus that sink's own settings, which the sink
    checks itself. Credentials never go here: sinks read them from the environment."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: Annotated[str, AfterValidator(SINKS.check)]
    #: Unique in the list; the outbox tracks delivery per name. Default: the kind.
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.kind

    def options(self) -> dict:
        """The sink-specific settings (everything but ``kind`` and ``name``)."""
        return dict(self.model_extra or {})


class AlertingSettings(Strict):
    """The live loop (``workbench score``): alert state, episodes and where alerts go."""

    #: SQLite file for scored windows, episodes and the outbox (relative to the project root).
    state: str = "data/alerts/state.sqlite"
    #: An episode resolves after this many normal windows in a row.
    resolve_after: Annotated[int, Field(ge=1, le=96)] = 4
    #: Deliver a trigger whose episode already resolved before the sink could take it?
    #: Default no: a problem that came and went during a sink outage is recorded, not paged late.
    late_pages: bool = False
    #: Annotate a page with the step that resolved the most similar past labelled incidents,
    #: citing them (or "no similar past incident"); computed when an episode opens or escalates.
    suggest: bool = True
    #: Delivery attempts before a retryable failure goes to the dead letters.
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 12
    #: First retry delay in seconds; doubles per attempt, with full jitter, up to ``max_backoff``.
    backoff: Annotated[float, Field(ge=0, le=60)] = 1.0
    max_backoff: Annotated[float, Field(ge=0, le=3600)] = 300.0
    sinks: list[SinkSettings] = Field(default_factory=lambda: [SinkSettings(kind="file")])

    @field_validator("sinks")
    @classmethod
    def _unique_sink_names(cls, value: list[SinkSettings]) -> list[SinkSettings]:
        labels = [s.label for s in value]
        dupes = sorted({n for n in labels if labels.count(n) > 1})
        if dupes:
            raise ValueError(f"sink names must be unique (give each a name): {dupes}")
        return value
