"""Optional wording of the suggestions by a language model, through any OpenAI-compatible
chat-completions endpoint; off unless configured, and never trusted beyond its citations.

Configuration comes from the environment only (a key never goes into ``workbench.yaml``):

``WORKBENCH_LLM_BASE_URL``
    The API's base URL as OpenAI clients take it, up to ``/v1``
    (``https://api.openai.com/v1``, ``http://127.0.0.1:8000/v1`` for a local server);
    requests go to ``<base>/chat/completions``.
``WORKBENCH_LLM_MODEL``
    The model name the endpoint expects.
``WORKBENCH_LLM_API_KEY``
    Sent as ``Authorization: Bearer <key>``; optional (a local server may need none).
    Never logged, never in a prompt, an answer or an error.
``WORKBENCH_LLM_TIMEOUT``
    Seconds to wait for an answer (default 20).

The prompt holds only the current episode (what its metrics did) and the retrieved
incidents with the voted steps: nothing else from the project leaves the machine. The
answer may cite only retrieved incidents, as ``[INC-0007]``: a sentence that cites any other
id is dropped and counted (a model that cites an incident it was not shown is making it
up). A timeout, an HTTP error, an answer that is not a chat completion, or nothing left
after the drops falls back to the retrieved steps, with the reason recorded.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import requests

from workbench._secrets import MASK, redact
from workbench.contracts import CANONICAL_METRICS
from workbench.errors import ConfigError
from workbench.runbooks.signature import Signature
from workbench.runbooks.similar import Retrieval
from workbench.runbooks.suggest import Step

__all__ = ["ENV_CREDENTIAL", "ENV_BASE_URL", "ENV_MODEL", "ENV_TIMEOUT", "LLMSettings", "Wording", "keep_cited", "prompt", "steps_text", "word"]

ENV_BASE_URL = "WORKBENCH_LLM_BASE_URL"
ENV_MODEL = "WORKBENCH_LLM_MODEL"
#: The name of the environment variable that holds the key (the key itself is never in code or config).
ENV_CREDENTIAL = "WORKBENCH_LLM_API_KEY"
ENV_TIMEOUT = "WORKBENCH_LLM_TIMEOUT"

log = logging.getLogger(__name__)

#: ``[INC-0007]`` or ``[INC-0007, INC-0012]``: the bracket's tokens that look like ids.
_CITATION = re.compile(r"\[([^\[\]\n]+)\]")
_ID = re.compile(r"^[A-Za-z0-9][\w.:/-]*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class LLMSettings:
    """Where and how to ask; ``api_key`` is kept out of ``repr``."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout: float = 20.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LLMSettings | None:
        """The settings from the environment, or ``None`` (off) when neither URL nor model is set.

        Raises
        ------
        ConfigError
            Only one of the URL and the model set, a URL that is not http(s), a bad timeout.
        """
        env = os.environ if environ is None else environ
        base, model = env.get(ENV_BASE_URL, "").strip(), env.get(ENV_MODEL, "").strip()
        if not base and not model:
            return None
        if not base or not model:
            missing = ENV_BASE_URL if not base else ENV_MODEL
            raise ConfigError(f"{missing} is not set: LLM wording needs both {ENV_BASE_URL} and {ENV_MODEL} (unset both to turn it off)")
        if not re.match(r"^https?://[^\s/]+", base):
            raise ConfigError(f"{ENV_BASE_URL} must be an http(s) URL such as https://api.openai.com/v1, got {redact(base)!r}")
        raw = env.get(ENV_TIMEOUT, "").strip()
        try:
            timeout = float(raw) if raw else 20.0
        except ValueError:
            timeout = math.nan
        if not (math.isfinite(timeout) and timeout > 0):
            raise ConfigError(f"{ENV_TIMEOUT} must be a positive number of seconds, got {raw!r}")
        return cls(base.rstrip("/"), model, env.get(ENV_CREDENTIAL, "").strip(), timeout)


@dataclass(frozen=True)
class Wording:
    """The suggestions as shown.

    Attributes
    ----------
    text
        The model's answer, less dropped sentences (``source == "llm"``), or the retrieved
        steps, numbered, with their citations (``"retrieved"``), or the abstention (``"none"``).
    cited
        The incident ids ``text`` cites.
    dropped
        Sentences of the model's answer dropped for citing incidents that were not retrieved.
    reason
        Why the retrieved steps are shown rather than the model's words ("" when they are the model's).
    """

    text: str
    source: str
    cited: tuple[str, ...]
    dropped: int
    reason: str
    steps: tuple[Step, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def steps_text(steps: Sequence[Step]) -> str:
    """The steps as numbered lines, each with its citations: ``1. batch job killed [INC-0007, INC-0011]``."""
    return "\n".join(f"{k}. {s.text} [{', '.join(s.incidents)}]" for k, s in enumerate(steps, start=1))


def _describe(episode: Signature) -> str:
    v = episode.vector
    moved = [m for m in CANONICAL_METRICS if v[f"{m}_direction"] != 0]
    moved.sort(key=lambda m: -v[f"{m}_order"])
    parts = [f"{m.replace('_', ' ')} {'up' if v[f'{m}_direction'] > 0 else 'down'}" for m in moved]
    context = [name for name, col in (("a deploy in the hour before", "deploy_before"), ("a campaign", "campaign"), ("maintenance", "maintenance")) if v[col]]
    lines = [
        f"service: {episode.service}",
        f"from {episode.start:%Y-%m-%d %H:%M} to {episode.end:%Y-%m-%d %H:%M} UTC",
        f"metrics that moved, in the order they moved: {', '.join(parts) or 'none beyond their usual range'}",
    ]
    if context:
        lines.append(f"context: {', '.join(context)}")
    if episode.missing:
        lines.append(f"no data for: {', '.join(episode.missing)}")
    return "\n".join(lines)


def prompt(episode: Signature, retrieval: Retrieval, steps: Sequence[Step]) -> list[dict]:
    """The chat messages: instructions, then the current episode and the retrieved incidents only."""
    ids = ", ".join(m.id for m in retrieval.matches)
    system = (
        "You help an on-call engineer resolve an incident. Suggest resolution steps for the current episode "
        "using only the past incidents given, in at most five short sentences, most promising first. "
        f"End each sentence with the ids of the past incidents it relies on in square brackets, e.g. [{retrieval.matches[0].id}]. "
        f"Cite only these ids: {ids}. Do not invent steps, commands or incidents."
    )
    past = "\n".join(f"[{m.id}] service {m.service}, similarity {m.similarity:.2f}; cause: {m.cause}; resolution: {m.resolution}" for m in retrieval.matches)
    user = f"Current episode:\n{_describe(episode)}\n\nSimilar past incidents:\n{past}\n\nTheir steps by similarity-weighted votes:\n{steps_text(steps)}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


#: A token that looks like an incident id: letters, a dash, digits ("INC-0099", "PD-12").
_ID_SHAPED = re.compile(r"\b[A-Za-z]+-\d+\b")


def _shape(token: str) -> str:
    """``INC-0099`` -> ``INC-9999``: the form an id family shares (prefix and digit count)."""
    return re.sub(r"\d", "9", token)


def _cited(sentence: str) -> list[str]:
    ids = []
    for inside in _CITATION.findall(sentence):
        ids += [t.strip() for t in re.split(r"[,;]", inside) if _ID.match(t.strip())]
    return ids


def keep_cited(text: str, allowed: Sequence[str]) -> tuple[str, int, tuple[str, ...]]:
    """``text`` without the sentences that cite an id outside ``allowed``.

    Returns the kept text (lines kept as lines), how many sentences were dropped, and the
    ids the kept text cites, in order of first mention. A sentence citing nothing is kept.
    """
    allowed, kept_lines, dropped, cited = set(allowed), [], 0, []
    shapes = {_shape(a) for a in allowed}
    for line in text.splitlines():
        pieces = []
        for piece in _SENTENCE.split(line.strip()):
            if pieces and _CITATION.sub("", piece).strip(" .") == "":
                pieces[-1] += " " + piece  # "Kill the job. [INC-0007]": the citation belongs to the sentence before
            elif piece:
                pieces.append(piece)
        kept = []
        for sentence in pieces:
            ids = _cited(sentence)
            # An id named outside brackets ("as in INC-0099", "[see INC-0099]", "(INC-0099)") is a
            # citation too: any token shaped like the allowed ids (letters, a dash, digits) counts.
            named = [t for t in _ID_SHAPED.findall(sentence) if _shape(t) in shapes]
            if set(ids) - allowed or set(named) - allowed:
                dropped += 1
                continue
            kept.append(sentence)
            cited += [i for i in ids if i not in cited]
        if kept:
            kept_lines.append(" ".join(kept))
    return "\n".join(kept_lines), dropped, tuple(cited)


def _scrub(text: str, key: str) -> str:
    # The key is not in the prompt, but an endpoint may echo headers back in its answer.
    return redact(text.replace(key, MASK) if key else text)


def _fallback(steps: Sequence[Step], reason: str, dropped: int = 0) -> Wording:
    cited = tuple(dict.fromkeys(i for s in steps for i in s.incidents))
    return Wording(steps_text(steps), "retrieved", cited, dropped, reason, tuple(steps))


def word(episode: Signature, retrieval: Retrieval, steps: Sequence[Step], settings: LLMSettings | None) -> Wording:
    """The suggestions in words: the model's (checked citations) when configured, else the retrieved steps.

    Parameters
    ----------
    episode
        The current episode's signature (what goes into the prompt about it).
    retrieval, steps
        The similar incidents and their voted steps (:func:`~workbench.runbooks.suggest.suggest_steps`).
    settings
        :meth:`LLMSettings.from_env`; ``None``: off, the retrieved steps.

    Never raises for the endpoint's failures: they are the ``reason`` of a fallback, also logged
    at WARNING (without the key).
    """
    if retrieval.abstained or not steps:
        why = retrieval.message if retrieval.abstained else "the similar incidents record no resolution"
        return Wording(why, "none", (), 0, "", ())
    if settings is None:
        return _fallback(steps, f"no LLM configured ({ENV_BASE_URL} and {ENV_MODEL} are unset)")
    headers = {"Content-Type": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    body = {"model": settings.model, "messages": prompt(episode, retrieval, steps), "temperature": 0}
    reason = ""
    try:
        response = requests.post(f"{settings.base_url}/chat/completions", json=body, headers=headers, timeout=settings.timeout)
        if response.status_code >= 400:
            # The body is not quoted: an endpoint's error may repeat what it was sent.
            reason = f"the LLM endpoint answered HTTP {response.status_code} {response.reason or ''}".rstrip()
        else:
            answer = response.json()["choices"][0]["message"]["content"]
            if not isinstance(answer, str):
                raise TypeError("content is not text")
    except requests.Timeout:
        reason = f"the LLM endpoint did not answer within {settings.timeout:g} s"
    except (ValueError, KeyError, IndexError, TypeError):  # before RequestException: a JSON error is both
        reason = "the LLM endpoint's answer was not a chat completion"
    except requests.RequestException as exc:
        reason = f"the LLM endpoint could not be reached ({type(exc).__name__})"
    if not reason:
        text, dropped, cited = keep_cited(_scrub(answer, settings.api_key), [m.id for m in retrieval.matches])
        if dropped:
            log.warning("LLM wording: %d sentence(s) dropped for citing incidents that were not retrieved", dropped)
        if text.strip():
            return Wording(text, "llm", cited, dropped, "", tuple(steps))
        reason = "nothing was left of the LLM's answer after dropping sentences citing incidents that were not retrieved" if dropped else "the LLM's answer was empty"
        log.warning("LLM wording skipped: %s", reason)
        return _fallback(steps, reason, dropped)
    log.warning("LLM wording skipped: %s", reason)
    return _fallback(steps, _scrub(reason, settings.api_key))
