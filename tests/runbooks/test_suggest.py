"""Runbook suggestions: steps split and normalised, ordered by similarity-weighted votes, each citing its incidents."""

import pytest

from workbench.errors import ParameterError
from workbench.runbooks.similar import Match, Retrieval
from workbench.runbooks.suggest import Step, normalise_step, split_steps, suggest_steps


def match(incident_id: str, similarity: float, resolution: str) -> Match:
    return Match(incident_id, "checkout", similarity, "night_cpu_saturation: runaway batch job", resolution, "night_cpu_saturation")


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("batch job killed", "batch job killed"),
        ("Batch job killed.", "batch job killed"),
        ("  - Batch   job killed!", "batch job killed"),
        ("2) batch job killed;", "batch job killed"),
        ("Rolled back to v2.3.1", "rolled back to v2.3.1"),
        # Where it was done differs per incident: the step is the same.
        ("Batch job killed on checkout-batch-1.", "batch job killed"),
        ("Heap dump from auth-api-6 attached to the ticket", "heap dump attached to the ticket"),
        ("Node drained in pod api-7f9c2", "node drained"),
        ("Rebooted on Monday", "rebooted on monday"),  # not a host: kept
    ],
)
def test_normalisation_is_light(text, normal):
    assert normalise_step(text) == normal


@pytest.mark.parametrize(
    ("resolution", "steps"),
    [
        ("batch job killed", ["batch job killed"]),
        ("killed the re-index on search-worker-2; moved it to the batch pool with a 2-core limit", ["killed the re-index on search-worker-2", "moved it to the batch pool with a 2-core limit"]),
        ("Drained the node. Rebuilt shard 4 from its replica.", ["Drained the node", "Rebuilt shard 4 from its replica"]),
        ("Killed the job, then rescheduled it with limits", ["Killed the job", "rescheduled it with limits"]),
        ("- restarted pods\n- shipped the fix next day", ["restarted pods", "shipped the fix next day"]),
        ("pods restarted, fix shipped next day", ["pods restarted, fix shipped next day"]),  # a comma alone does not split
        ("Rolled back to v2.3.1", ["Rolled back to v2.3.1"]),
        ("", []),
        (None, []),
    ],
)
def test_a_resolution_is_cut_into_steps(resolution, steps):
    assert split_steps(resolution) == steps


def test_steps_are_ordered_by_similarity_weighted_votes_and_cite_their_incidents():
    steps = suggest_steps(
        [
            match("INC-0007", 0.95, "job rescheduled with limits"),
            match("INC-0011", 0.90, "batch job killed"),
            match("INC-0015", 0.80, "Batch job killed."),
        ]
    )
    assert steps == [
        Step("batch job killed", pytest.approx(1.70), ("INC-0011", "INC-0015")),
        Step("job rescheduled with limits", 0.95, ("INC-0007",)),
    ]


def test_one_close_incident_can_outvote_two_distant_ones():
    steps = suggest_steps([match("A", 0.3, "restart"), match("B", 0.3, "restart"), match("C", 0.9, "scale up")])
    assert [s.text for s in steps] == ["scale up", "restart"]


def test_an_incident_votes_once_for_a_step_however_often_it_says_it():
    steps = suggest_steps([match("A", 0.9, "batch job killed; checked logs; Batch job killed."), match("B", 0.5, "Batch job killed")])
    killed = next(s for s in steps if s.text == "batch job killed")
    assert killed.incidents == ("A", "B") and killed.votes == pytest.approx(1.4)


def test_ties_go_to_more_incidents_then_to_the_step_met_first():
    steps = suggest_steps([match("A", 0.6, "first; second"), match("B", 0.3, "third"), match("C", 0.3, "third")])
    assert [s.text for s in steps] == ["third", "first", "second"]  # 0.6 each: two incidents beat one


def test_the_text_is_as_the_most_similar_incident_wrote_it():
    steps = suggest_steps([match("B", 0.5, "batch job killed"), match("A", 0.9, "Batch job killed!")])
    assert steps[0].text == "Batch job killed" and steps[0].incidents == ("A", "B")


def test_opposite_moves_add_no_weight():
    steps = suggest_steps([match("A", -0.4, "restart"), match("B", 0.2, "restart")])
    assert steps[0].votes == pytest.approx(0.2) and steps[0].incidents == ("B", "A")


def test_an_abstention_suggests_nothing():
    nearest = (match("A", 0.4, "batch job killed"),)
    abstained = Retrieval("EP-1", "checkout", (), nearest, 0.8, True, "no similar past incident: ...")
    assert suggest_steps(abstained) == []
    answered = Retrieval("EP-1", "checkout", nearest, nearest, 0.3, False, "...")
    assert [s.text for s in suggest_steps(answered)] == ["batch job killed"]


def test_limit_keeps_the_best_steps():
    matches = [match("A", 0.9, "one; two; three")]
    assert [s.text for s in suggest_steps(matches, limit=2)] == ["one", "two"]


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, "2"])
def test_a_bad_limit_is_refused(limit):
    with pytest.raises(ParameterError):
        suggest_steps([match("A", 0.9, "x")], limit=limit)


def test_steps_on_the_sample_resolutions_cite_real_incidents(sample_history):
    table = sample_history.table
    matches = [Match(i, r.service, 0.9, r.cause, r.resolution, "") for i, r in table.iterrows()]
    steps = suggest_steps(matches)
    assert steps and all(step.text.strip() for step in steps)
    cited = {i for step in steps for i in step.incidents}
    assert cited == {i for i, r in table.iterrows() if r.resolution.strip()}


def test_the_same_step_on_different_hosts_is_one_step_with_two_votes():
    steps = suggest_steps([match("INC-0012", 0.9, "Batch job killed on checkout-batch-1"), match("INC-0007", 0.8, "batch job killed")])
    assert [(s.text, s.incidents) for s in steps] == [("Batch job killed on checkout-batch-1", ("INC-0012", "INC-0007"))]
    assert steps[0].votes == pytest.approx(1.7)
