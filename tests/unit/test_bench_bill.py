"""The bill model's arithmetic (bench/bill.py), on small cases computed by hand with round prices.

GIVEN measured usage per incident and per scheduled run, and what the stack keeps
WHEN the month's bill is modelled
THEN each line is the usage times its price, SMS and voice grow with incidents (and not with responders), and the
schedules and the standing resources cost the same whatever happens.
"""

from __future__ import annotations

import pytest

from bench.bill import GB, Standing, Usage, Workload, monthly_bill, runs_a_month

ROUND_PRICES = {
    "step_functions_transition": 0.001,
    "lambda_request": 0.01,
    "lambda_gb_second_arm": 0.1,
    "dynamodb_write_request": 0.02,
    "dynamodb_read_request": 0.005,
    "sms_us_toll_free": 0.5,
    "sms_inbound_us_toll_free": 0.25,
    "voice_us_minute": 2.0,
    "email": 0.1,
}
ROUND_MONTHLY = {
    "cloudwatch_alarm": 1.0,
    "cloudwatch_custom_metric": 3.0,
    "secret": 10.0,
    "kms_key": 100.0,
    "us_toll_free_number": 7.0,
    "dynamodb_gb": 1000.0,
    "logs_stored_gb": 0.0,
}
NOTHING_STANDS = Standing(alarms=0, secrets=0, kms_keys=0, custom_metrics=0, origination_numbers=0)


def bill_of(workload: Workload, standing: Standing = NOTHING_STANDS, **overrides: object):
    options = {
        "prices": ROUND_PRICES,
        "monthly_prices": ROUND_MONTHLY,
        "api_call_prices": {"s3:PutObject": 0.001},
        "logs_ingested_gb": 0.0,
        "platform_log_bytes": 0,
        "voice_minutes_per_call": 1,
    } | overrides
    return monthly_bill(workload, standing, **options)  # type: ignore[arg-type]


def workload(incidents: float = 10, acknowledged_share: float = 0.5, responders: int = 50, **kwargs) -> Workload:
    defaults = {
        "acknowledged": Usage(sms=2, sms_inbound=1, voice_calls=1, emails=1),
        "unacknowledged": Usage(sms=10, voice_calls=6, emails=4),
        "scheduled": {},
    }
    return Workload(
        responders=responders,
        incidents_a_month=incidents,
        acknowledged_share=acknowledged_share,
        **(defaults | kwargs),  # type: ignore[arg-type]
    )


def test_sms_and_voice_are_the_incident_mix_times_their_prices():
    bill = bill_of(workload())
    # 5 acknowledged: 10 SMS, 5 replies, 5 calls, 5 emails; 5 not: 50 SMS, 30 calls, 20 emails.
    assert bill.lines["sms"] == pytest.approx(60 * 0.5 + 5 * 0.25)
    assert bill.lines["voice"] == pytest.approx(35 * 2.0)
    assert bill.lines["email"] == pytest.approx(25 * 0.1)


def test_sms_and_voice_grow_with_incidents_not_with_responders():
    base = bill_of(workload(incidents=10))
    doubled = bill_of(workload(incidents=20))
    assert doubled.lines["sms"] == pytest.approx(2 * base.lines["sms"])
    assert doubled.lines["voice"] == pytest.approx(2 * base.lines["voice"])
    more_people = bill_of(workload(incidents=10, responders=500))
    assert more_people.lines == base.lines


def test_more_incidents_escalating_unacknowledged_cost_more_pages():
    mostly_acknowledged = bill_of(workload(acknowledged_share=0.9))
    none_acknowledged = bill_of(workload(acknowledged_share=0.0))
    assert none_acknowledged.lines["sms"] == pytest.approx(100 * 0.5)
    assert none_acknowledged.lines["voice"] == pytest.approx(60 * 2.0)
    assert mostly_acknowledged.lines["voice"] < none_acknowledged.lines["voice"]


def test_the_toll_free_number_is_paid_even_in_a_month_without_incidents():
    bill = bill_of(workload(incidents=0), Standing(alarms=0, secrets=0, kms_keys=0, custom_metrics=0))
    assert bill.lines["sms"] == 7.0
    assert bill.lines["voice"] == 0


def test_compute_lines_add_incidents_and_scheduled_runs():
    one_incident = Usage(transitions=100, invocations=10, gb_seconds=2, dynamodb_writes=50, dynamodb_reads=200)
    sweep = Usage(invocations=1, gb_seconds=0.5, dynamodb_reads=3)
    bill = bill_of(
        workload(
            incidents=2,
            acknowledged_share=1.0,
            acknowledged=one_incident,
            scheduled={"Reconciler": (100, sweep)},
        )
    )
    assert bill.lines["step functions"] == pytest.approx(200 * 0.001)
    assert bill.lines["lambda"] == pytest.approx((20 + 100) * 0.01 + (4 + 50) * 0.1)
    assert bill.lines["dynamodb"] == pytest.approx(100 * 0.02 + (400 + 300) * 0.005)


def test_standing_resources_are_counted_per_month():
    bill = bill_of(workload(incidents=0), Standing(alarms=46, secrets=3, kms_keys=3, custom_metrics=2))
    assert bill.lines["cloudwatch"] == pytest.approx(46 * 1.0 + 2 * 3.0)
    assert bill.lines["secrets manager"] == 30.0
    assert bill.lines["kms"] == 300.0
    assert bill.total == pytest.approx(46 + 6 + 30 + 300 + 7)


def test_storage_is_a_years_worth_of_what_each_month_leaves():
    stored = workload(incidents=1, acknowledged_share=1.0, acknowledged=Usage(stored_bytes=GB / 1000))
    assert bill_of(stored).lines["dynamodb"] == pytest.approx(12 / 1000 * 1000.0)


def test_logs_ingestion_counts_platform_lines_per_invocation():
    logged = workload(incidents=1, acknowledged_share=1.0, acknowledged=Usage(invocations=4, log_bytes=GB))
    bill = bill_of(logged, logs_ingested_gb=0.5, platform_log_bytes=GB / 4)
    assert bill.lines["cloudwatch"] == pytest.approx((1 + 4 / 4) * 0.5)


def test_api_calls_are_priced_and_unknown_ones_are_named():
    calls = Usage(api_calls={"s3:PutObject": 30, "kms:Decrypt": 2})
    bill = bill_of(workload(incidents=1, acknowledged_share=1.0, acknowledged=calls))
    assert bill.lines["api calls"] == pytest.approx(30 * 0.001)
    assert bill.unpriced_calls == ("kms:Decrypt",)


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 minute)", 43_200),
        ("rate(5 minutes)", 8_640),
        ("rate(10 minutes)", 4_320),
        ("rate(2 hours)", 360),
        ("cron(0 9 ? * MON *)", 30 / 7),
        ("cron(0 9 1 * ? *)", 1),
    ],
)
def test_runs_a_month_of_a_schedule(expression, runs):
    assert runs_a_month(expression) == pytest.approx(runs)


def test_the_figures_set_the_bill_against_the_per_seat_price():
    from bench.bill import add_figures
    from bench.harness import Report, goal_of

    report = Report()
    modelled = workload(scheduled={"Reconciler": (10, Usage(invocations=1))})
    bill = bill_of(modelled)
    add_figures(report, bill, modelled, NOTHING_STANDS, seats=4, price=25.0)
    figures = {f.name: f.value for f in report.figures}
    assert figures["per_seat_price_usd"] == 100
    assert figures["monthly_bill_to_per_seat_price"] == pytest.approx(round(bill.total / 100, 3))
    assert figures["monthly_bill_sms_usd"] == pytest.approx(round(bill.lines["sms"], 2))
    assert figures["monthly_bill_voice_usd"] == pytest.approx(round(bill.lines["voice"], 2))
    assert goal_of("monthly_bill_to_per_seat_price") is not None


def test_the_bench_takes_seats_and_price_from_the_command_line():
    from bench.__main__ import arguments

    assert (arguments([]).seats, arguments([]).seat_price) == (50, 21.0)
    given = arguments(["--seats", "30", "--seat-price", "9.5"])
    assert (given.seats, given.seat_price) == (30, 9.5)
