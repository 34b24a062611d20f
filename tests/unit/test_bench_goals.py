"""make bench judges itself: each figure with a goal says met or not, and one line sums it up."""

from __future__ import annotations

from bench.harness import Goal, Report, goal_of


def test_a_figure_is_judged_by_the_goal_its_name_matches():
    assert goal_of("cold_import_ratio[page_handlers.send_page]") == Goal("<=", 1.5)
    assert goal_of("cold_import_ratio[report_handlers.scheduled_report]") == Goal("<=", 2)
    assert goal_of("pages_lost") == Goal("==", 0)
    assert goal_of("synth_seconds") is None


def test_the_verdict_counts_the_goals_met_and_names_the_rest():
    report = Report()
    report.add("pages_lost", 0, "pages")
    report.add("status_publish_after_one_update", 2030, "ms")
    report.add("synth_seconds", 5.5, "s")
    assert report.verdict() == "1 of 2 figures with a goal meet it; not met: status_publish_after_one_update"
    judged = report.to_json()
    assert judged["pages_lost"] == {"value": 0, "unit": "pages", "goal": "== 0", "met": True}
    assert judged["status_publish_after_one_update"]["met"] is False
    assert "goal" not in judged["synth_seconds"]
