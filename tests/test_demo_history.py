"""The demo's history: after matching, the whole money journey exists and the reports show it."""

from sqlalchemy import func, select

from agency import create_app
from agency.introductions.models import Arrangement, Introduction, IntroductionStatus
from agency.isf.models import Invoice, InvoiceStatus, Payout, PayoutStatus, Posting
from agency.visits.models import Flag, Timesheet, TimesheetStatus, Visit


def test_the_seeded_demo_has_a_history_that_every_report_shows(demo_copy):
    demo_settings, output = demo_copy  # a copy of the demo seed-demo made
    inline = create_app(demo_settings)
    session = inline.extensions["agency"].sessionmaker()
    try:
        assert output is not None and "History (last 4 weeks): 60 introductions" in output
        count = lambda stmt: session.scalar(stmt)  # noqa: E731

        statuses = dict(
            session.execute(
                select(Introduction.status, func.count()).group_by(Introduction.status)
            ).all()
        )
        assert statuses[IntroductionStatus.CONFIRMED] > 0
        assert statuses[IntroductionStatus.PROVIDER_DECLINED] > 0
        assert statuses[IntroductionStatus.SEEKER_DECLINED] > 0
        assert count(select(func.count()).select_from(Arrangement)) > 0
        assert count(select(func.count()).select_from(Invoice)) > 0
        assert count(select(func.count()).select_from(Visit)) > 0
        flags = session.scalars(select(Visit.flags)).all()
        assert any(Flag.OUTSIDE_SCHEDULE.value in (f or []) for f in flags)

        paid = count(
            select(func.count()).where(
                Invoice.status == InvoiceStatus.PAID, Invoice.days_to_paid.is_not(None)
            )
        )
        assert paid > 0
        settled = count(
            select(func.count()).where(
                Payout.status == PayoutStatus.SETTLED,
                Payout.gateway == "manual_bank_transfer",
                Payout.external_id.like("BACS-%"),
            )
        )
        assert settled == paid
        assert count(select(func.count()).where(Payout.status == PayoutStatus.SENT)) > 0
        # The deliberately small ISF: its timesheet was refused (insufficient_funds), left submitted.
        assert count(select(func.count()).where(Timesheet.status == TimesheetStatus.SUBMITTED)) == 1
        assert "1 timesheet refused (insufficient_funds" in output

        unbalanced = session.execute(
            select(Posting.entry_id, func.sum(Posting.amount_pence))
            .group_by(Posting.entry_id)
            .having(func.sum(Posting.amount_pence) != 0)
        ).all()
        assert unbalanced == []
        assert count(select(func.count()).select_from(Posting)) > 0
    finally:
        session.close()

    client = inline.test_client()
    token = client.post(
        "/auth/token",
        json={"email": "auditor@bristol.example", "password": "demo-password-auditor"},
    ).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    reports = {}
    for name in ("local-spend", "prompt-payment", "funnel", "fairness"):
        response = client.get(f"/reports/{name}", headers=headers)
        assert response.status_code == 200, response.json
        reports[name] = response.json
    assert reports["local-spend"]["total"]["amount_pence"] > 0
    assert reports["local-spend"]["total"]["invoices"] == paid
    assert reports["prompt-payment"]["total"]["invoices"] == paid
    steps = {s["step"]: s["count"] for s in reports["funnel"]["steps"]}
    assert steps["introduced"] == 60 and steps["arrangements"] > 0
    assert reports["funnel"]["decline_reasons"]["provider_declined"]
    assert reports["funnel"]["decline_reasons"]["seeker_declined"]
    assert reports["fairness"]["total"]["hours_per_week"] > 0
    assert reports["fairness"]["total"]["providers_with_work"] > 0
