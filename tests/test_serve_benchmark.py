"""benchmarks/serve.py writes its own section of docs/speed.md, and speed.py keeps it."""

import argparse
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", REPO / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


serve = load("serve")
speed = load("speed")


def section(text):
    return f"{serve.START}\n## Serving\n\n{text}\n{serve.END}"


def test_the_section_is_replaced_or_appended_and_the_rest_kept(tmp_path):
    doc = tmp_path / "speed.md"
    doc.write_text("# credscore speed\n\nAbove.\n", encoding="utf-8")
    serve.write_section(doc, section("first run"))
    assert (
        doc.read_text(encoding="utf-8")
        == f"# credscore speed\n\nAbove.\n\n{section('first run')}\n"
    )
    doc.write_text(doc.read_text(encoding="utf-8") + "\nBelow.\n", encoding="utf-8")
    serve.write_section(doc, section("second run"))
    text = doc.read_text(encoding="utf-8")
    assert "first run" not in text and text.count(serve.START) == 1
    assert text.startswith("# credscore speed\n\nAbove.\n") and text.endswith("\nBelow.\n")
    # speed.py regenerates the whole report, but keeps the serving section as it is.
    assert speed.kept_sections(doc) == f"\n{section('second run')}\n"
    assert speed.kept_sections(tmp_path / "none.md") == ""


def test_render_reports_every_level_and_the_targets():
    levels = []
    for clients, latency in ((1, 0.002), (16, 0.02), (64, 0.08)):
        level = serve.Level(clients, requests=1000, seconds=2.0, latencies=[latency] * 1000)
        levels.append(level)
    soaked = serve.Level(16, requests=5000, seconds=10.0, latencies=[0.02] * 5000)
    samples = [(0.0, [100.0, 101.0]), (5.0, [102.0, 101.5]), (10.0, [101.0, 101.0])]
    args = argparse.Namespace(workers=2, seconds=20.0, soak=100000)
    text = serve.render(levels, soaked, samples, args, 60.0)
    assert text.startswith(serve.START) and text.endswith(serve.END)
    assert "| 16 | 1,000 | 500 | 20.0 | 20.0 | 0 |" in text
    assert "p99 under 50 ms at 16 concurrent clients: 20.0 ms, met" in text
    assert "at least 500 comments/s: 500 at best, met" in text
    assert "worker 1: 100 MB at the start, 101 MB at the end, 102 MB at most" in text
    assert "worker 2: 101 MB at the start, 101 MB at the end, 102 MB at most" in text
    assert ("busy with other work" in text) is False  # every load average was 0 here


def test_a_busy_machine_is_said_to_be():
    level = serve.Level(16, requests=10, seconds=1.0, latencies=[0.01] * 10, load_before=9.0)
    args = argparse.Namespace(workers=2, seconds=20.0, soak=10)
    text = serve.render([level], level, [(0.0, [1.0]), (1.0, [1.0])], args, 1.0)
    assert "load average up to 9.0" in text
