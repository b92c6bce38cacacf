"""How the sample's incidents were written up: causes and resolutions as an on-call engineer
types them, not one template per kind.

:func:`write_up` turns an incident's kind, its drawn cause and resolution (the short phrases in
:mod:`workbench.sources.scenarios`) and its service into the text of the incident log:

* the cause keeps the kind as its first word (``night_cpu_saturation: ...``), so the kind can
  still be read back, then one of several phrasings of what happened, with the service's own
  details: its hosts (``checkout-worker-3``), its dependency (checkout's payment provider,
  search's index cluster), its datastore, a release version, a zone, the nightly job;
* the resolution is one or two steps, separated by ``"; "``, in several phrasings, with the
  same details: "killed the re-index on search-worker-2; moved it to the batch pool with a
  2-core limit".

So similar incidents read alike without reading the same, and retrieval over them (the
``runbooks`` package) is tested on text that varies as a team's does. The draws come from their
own random stream (``[seed, TEXT_STREAM]``): the metrics, the schedule and every label's times
are the same as with plain phrases.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHRASES", "TEXT_STREAM", "write_up"]

#: The random stream of the write-ups ("text" in ASCII), beside the seed.
TEXT_STREAM = 0x74657874

#: Per kind: the short phrases drawn for the cause and the resolution, as (causes, resolutions).
PHRASES = {
    "error_burst": (
        ["bad config pushed with deploy", "null pointer in new release", "database failover"],
        ["rolled back", "config reverted", "failover completed"],
    ),
    "latency_spike": (
        ["hung connection to payment provider", "lock contention in database", "DNS resolver timeouts"],
        ["dependency restarted", "connection pool recycled", "query killed"],
    ),
    "memory_leak": (
        ["unbounded cache in new release", "leaked HTTP connections", "listener not deregistered"],
        ["pods restarted, fix shipped next day", "rolled back"],
    ),
    "partial_outage": (
        ["one shard unhealthy", "one availability zone degraded", "bad node in pool"],
        ["node drained", "traffic shifted away from zone", "shard rebuilt"],
    ),
    "latency_creep": (
        ["slow downstream dependency", "index bloat in database", "noisy neighbour on shared host"],
        ["dependency scaled up", "reindexed", "moved to dedicated host"],
    ),
    "night_cpu_saturation": (
        ["runaway batch job", "cron re-index stuck in loop", "log compaction storm"],
        ["batch job killed", "job rescheduled with limits"],
    ),
    "traffic_drop": (
        ["upstream load balancer misrouting", "CDN edge dropping requests", "client release bug"],
        ["routing rule fixed", "CDN config reverted", "client hotfix"],
    ),
}

#: Per service: the dependency it calls and the datastore it owns (others get generic ones).
_DETAILS = {
    "checkout": ("payment provider", "orders-db"),
    "payments": ("card network gateway", "ledger-db"),
    "search": ("index cluster", "search-es"),
    "catalog": ("pricing service", "catalog-db"),
    "auth": ("token store", "sessions-redis"),
    "notifications": ("SMTP relay", "events-kafka"),
}
_JOBS = ["nightly export", "re-index", "log compaction", "report build", "backup verification"]

_CAUSES = {
    "error_burst": [
        "{base}: {service} {version} threw 5xx on most requests",
        "{base} right after the {version} rollout on {service}",
        "5xx storm on {service} after {version}: {base}",
    ],
    "latency_spike": [
        "{base}; {service} threads stuck waiting on the {dependency}",
        "p99 on {service} over 5 s: {base}",
        "{dependency} calls from {service} hanging ({base})",
    ],
    "memory_leak": [
        "{base}: heap on {host} grew all day until OOM risk",
        "memory on {service} pods climbing since {version} ({base})",
        "{host} close to its memory limit, {base}",
    ],
    "partial_outage": [
        "{base}; about 3 % of {service} requests failing from {zone}",
        "errors from {service} pods in {zone} only: {base}",
        "{base} ({host} returning 503s)",
    ],
    "latency_creep": [
        "{base}: {service} p95 drifting up for hours",
        "slow {dependency} responses, {base}",
        "{datastore} queries slower and slower ({base})",
    ],
    "night_cpu_saturation": [
        "{base}: {job} on {host} pinned every core",
        "{host} at 100 % CPU overnight, {job} ({base})",
        "{job} went wild at night, {base}",
    ],
    "traffic_drop": [
        "{base}: {service} traffic down by a third in daytime",
        "requests to {service} vanished from {zone} ({base})",
        "{service} request rate fell with no errors, {base}",
    ],
}

_RESOLUTIONS = {
    "error_burst": [
        "{base}; {version} pulled from the release train",
        "{base} on {service}; added a canary step to the deploy",
        "{base}; postmortem booked for the {version} change",
    ],
    "latency_spike": [
        "{base}; timeouts to the {dependency} lowered to 2 s",
        "{base} on {host}; alert added on pool saturation",
        "{base}; the {dependency} team paged",
    ],
    "memory_leak": [
        "{base}; heap dump from {host} attached to the ticket",
        "{base}; memory limit alert lowered to 85 %",
        "{base} ({version} fix)",
    ],
    "partial_outage": [
        "{base}; {host} taken out of rotation",
        "{base}; health check tightened for {zone}",
        "{base}, then {service} traffic rebalanced",
    ],
    "latency_creep": [
        "{base}; capacity review for the {dependency} opened",
        "{base} on {datastore}; slow-query log enabled",
        "{base}; latency SLO burn alert added",
    ],
    "night_cpu_saturation": [
        "{base} on {host}; moved the {job} to the batch pool with a 2-core limit",
        "{base}; {job} rescheduled for the weekend",
        "{base}; CPU limit added to the cron spec",
    ],
    "traffic_drop": [
        "{base}; synthetic check added for {zone}",
        "{base}; traffic back to normal within minutes",
        "{base}, {service} traffic recovered",
    ],
}


def write_up(kind: str, cause: str, resolution: str, service: str, rng: np.random.Generator) -> tuple[str, str]:
    """The incident log's ``cause`` and ``resolution`` for one incident (see the module notes).

    ``cause`` and ``resolution`` are the short phrases drawn for the incident; they stay in the
    text. A kind without phrasings keeps them as they are.
    """
    if kind not in _CAUSES:  # a kind without phrasings
        return f"{kind}: {cause}", resolution
    dependency, datastore = _DETAILS.get(service, ("upstream API", f"{service}-db"))
    role = str(rng.choice(["worker", "api", "db"] if kind != "night_cpu_saturation" else ["worker", "batch"]))
    details = {
        "service": service,
        "dependency": dependency,
        "datastore": datastore,
        "host": f"{service}-{role}-{int(rng.integers(1, 7))}",
        "version": f"v{int(rng.integers(2, 6))}.{int(rng.integers(0, 30))}.{int(rng.integers(0, 10))}",
        "zone": f"eu-west-1{'abc'[int(rng.integers(0, 3))]}",
        "job": str(rng.choice(_JOBS)),
    }
    said = str(rng.choice(_CAUSES[kind])).format(base=cause, **details)
    done = str(rng.choice(_RESOLUTIONS[kind])).format(base=resolution, **details)
    return f"{kind}: {said}", done[0].upper() + done[1:]
