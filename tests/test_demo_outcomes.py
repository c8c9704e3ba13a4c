"""The demo seeds outcomes, equality answers and activities, so those charts show figures."""

from agency import create_app
from agency.access import Kind, Principal
from agency.equality.report import equal_access
from agency.outcomes.report import outcomes
from agency.reports.charts import CHARTS, render
from agency.reports.scope import resolve_scope


def test_the_seeded_demo_gives_the_outcomes_and_equal_access_charts_real_figures(demo_copy):
    demo_settings, output = demo_copy  # a copy of the demo seed-demo made
    inline = create_app(demo_settings)
    session = inline.extensions["agency"].sessionmaker()
    try:
        with inline.app_context():
            assert output is not None and "community activities" in output
            scope = resolve_scope(session, Principal(Kind.ADMIN, "usr_admin"))
            report = outcomes(session, scope)
            life = report["total"]["measures"][0]
            assert life["measure"] == "life_satisfaction" and not life["suppressed"]
            assert life["pairs"] >= 5 and life["ci_low"] < life["mean_change"] < life["ci_high"]
            access = equal_access(session, scope)
            assert access["population"]["people"] >= 5
            shown = [
                cell
                for block in access["characteristics"]
                for cell in block["categories"]
                if not cell["suppressed"] and cell["people"]
            ]
            assert shown
            for name, body in (("outcomes", report), ("equal-access", access)):
                assert render(CHARTS[name](body), "png").startswith(b"\x89PNG")
    finally:
        session.close()
