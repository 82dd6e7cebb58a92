import pytest

from livecode.core.errors import IllegalTransition
from livecode.core.execution_states import TERMINAL, TRANSITIONS, Status, check_transition

LEGAL = [
    (Status.QUEUED, Status.RUNNING),
    (Status.QUEUED, Status.CANCELLED),
    (Status.RUNNING, Status.COMPLETED),
    (Status.RUNNING, Status.FAILED),
    (Status.RUNNING, Status.TIMEOUT),
    (Status.RUNNING, Status.QUEUED),  # recovery after a lost worker
]


@pytest.mark.parametrize("current,new", LEGAL)
def test_legal_transitions_are_allowed(current, new):
    check_transition(current, new)


@pytest.mark.parametrize(
    "current,new",
    [(c, n) for c in Status for n in Status if (c, n) not in LEGAL],
)
def test_every_other_transition_is_refused(current, new):
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, new)
    assert str(current) in info.value.message and str(new) in info.value.message


def test_terminal_states_have_no_way_out():
    assert TERMINAL == {Status.COMPLETED, Status.FAILED, Status.TIMEOUT, Status.CANCELLED}
    for status in TERMINAL:
        assert not TRANSITIONS[status]
