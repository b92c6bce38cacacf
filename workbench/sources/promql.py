"""PromQL templates: rendering them for a service, and saying what is wrong with an answer.

A template names the service label ``$label`` (``source.prometheus.service_label``) and the
service ``$service``; :data:`workbench.settings.data.QUERY_SETS` are written that way. A
template may also name its label outright (``up{job="$service"}``): messages then name that.
"""

from __future__ import annotations

import re
import string

import pandas as pd

from workbench.errors import ConfigError

__all__ = ["expected_label", "no_series_message", "problem", "render_query"]

#: How many series an error about missing series lists before "and N more".
_LISTED = 10


def render_query(template: str, service: str, label: str = "service") -> str:
    """The PromQL for ``service``: ``$service`` replaced by its name, ``$label`` by the service label."""
    try:
        return string.Template(template).substitute(service=service, label=label)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"bad query template {template!r}: {exc} (only $label and $service may be used; write $$ for a literal $)") from exc


def expected_label(template: str, label: str = "service") -> str:
    """The label a template matches the service name on: ``label`` for ``$label``, else the one written."""
    found = re.search(r'(\$\{?label\}?|[A-Za-z_]\w*)\s*=~?\s*"\$\{?service\}?"', template)
    if found is None or found.group(1) in ("$label", "${label}"):
        return label
    return found.group(1)


def problem(series: list[dict[str, str]], template: str, label: str = "service") -> str | None:
    """What is wrong with a query that returned ``series`` (their label sets); ``None`` if nothing.

    A metric's query must return exactly one series per service.
    """
    if not series:
        return f"no series: is the label `{expected_label(template, label)}` right?"
    if len(series) == 1:
        return None
    keys = sorted({k for labels in series for k in labels})
    differ = [k for k in keys if len({labels.get(k) for labels in series}) > 1]
    return f"{len(series)} series: aggregate with sum" + (f" (they differ in {', '.join(differ)})" if differ else "")


def no_series_message(missing: list[tuple[str, str, str, str]], start: pd.Timestamp, end: pd.Timestamp, label: str, url: str) -> str:
    """The error for queries that matched nothing: ``missing`` holds (service, metric, template, query)."""
    labels = sorted({expected_label(template, label) for _, _, template, _ in missing})
    service, metric = missing[0][:2]
    head = f"no series for {metric} of {service}" if len(missing) == 1 else f"no series for {len(missing)} queries"
    lines = [
        f"{head} from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC at {url}: nothing matched in that range. Is "
        f"{', '.join(f'`{name}`' for name in labels)} the label that names services in your metrics "
        "(source.prometheus.service_label), with the service name as its value, and is the metric scraped? "
        "`workbench pull --check` shows what each query returns"
    ]
    lines += [f"  {m} of {s} (label `{expected_label(t, label)}`): {q}" for s, m, t, q in missing[:_LISTED]]
    if len(missing) > _LISTED:
        lines.append(f"  and {len(missing) - _LISTED} more")
    return "\n".join(lines)
