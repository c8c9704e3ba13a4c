"""The one state-machine helper: moves, named moves, and the one 409 a wrong move gets."""

import enum

import pytest

from agency.state_machine import IllegalTransition, StateMachine


class Light(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    AMBER = "amber"
    OFF = "off"


PLAIN = StateMachine(
    {
        Light.RED: {Light.GREEN, Light.OFF},
        Light.GREEN: {Light.AMBER, Light.OFF},
        Light.AMBER: {Light.RED, Light.OFF},
        Light.OFF: set(),
    }
)
NAMED = StateMachine(
    {
        Light.RED: {"go": Light.GREEN, "switch_off": Light.OFF},
        Light.GREEN: {"slow": Light.AMBER},
        Light.AMBER: {"stop": Light.RED},
        Light.OFF: {},
    }
)


class Lamp:
    __label__ = "traffic light"

    def __init__(self, status: Light) -> None:
        self.status = status


def test_an_allowed_move_sets_the_status_and_returns_the_old_one():
    lamp = Lamp(Light.RED)
    assert PLAIN.move(lamp, Light.GREEN) is Light.RED
    assert lamp.status is Light.GREEN


def test_a_refused_move_is_illegal_transition_naming_the_current_status():
    lamp = Lamp(Light.OFF)
    with pytest.raises(IllegalTransition) as refused:
        PLAIN.move(lamp, Light.GREEN)
    error = refused.value
    assert (error.status, error.code) == (409, "illegal_transition")
    assert error.extra == {"current_status": "off"}
    assert error.message == "The traffic light is off; it cannot become green."
    assert lamp.status is Light.OFF


def test_a_named_move_leads_to_its_status_or_lists_the_possible_ones():
    lamp = Lamp(Light.RED)
    assert NAMED.target(lamp, "go") is Light.GREEN
    with pytest.raises(IllegalTransition) as refused:
        NAMED.target(lamp, "stop")
    assert refused.value.extra == {"current_status": "red", "allowed": ["go", "switch_off"]}
    assert refused.value.message == (
        "The traffic light is red; 'stop' is not possible from that state "
        "(possible: go, switch_off)."
    )
    with pytest.raises(IllegalTransition) as final:
        NAMED.target(Lamp(Light.OFF), "go")
    assert final.value.message.endswith("'go' is not possible from that state.")


def test_the_table_answers_questions_about_itself():
    assert PLAIN.targets(Light.RED) == {Light.GREEN, Light.OFF}
    assert PLAIN.allows(Light.AMBER, Light.RED) and not PLAIN.allows(Light.RED, Light.AMBER)
    assert PLAIN.can_reach(Light.OFF) == {Light.RED, Light.GREEN, Light.AMBER}
    assert NAMED.moves(Light.RED) == ["go", "switch_off"]


def test_a_table_must_name_every_status_of_its_enum():
    with pytest.raises(ValueError):
        StateMachine({Light.RED: {Light.GREEN}, Light.GREEN: set()})
