"""Bad input: one line naming the file, the key and what is allowed; exit 2; no traceback; nothing written."""

from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import BASELINE

GOOD = BASELINE.read_text(encoding="utf-8")

#: The evidence every lever carries: effect source and range, cost range (the cost is assumed).
RANGES = 'effect_source = "ASM t"\neffect_low = 0\neffect_high = 1\ncost_low = 0\ncost_high = 0\n'
CASES = {
    "unknown_key": (GOOD.replace("events_per_year = 8.0", "events_per_yeer = 8.0"),
                    ["params.supply.events_per_yeer", "unknown key", "events_per_year"]),
    "unknown_group": (GOOD + "\n[params.weather]\nrain = 1\n", ["params.weather", "unknown key", "supply"]),
    "wrong_type": (GOOD.replace("workstations = 19.0", 'workstations = "nineteen"'),
                   ["params.supply.workstations", "number"]),
    "out_of_range": (GOOD.replace("city_rate = 0.20", "city_rate = 1.5"),
                     ["params.subsidy.city_rate", "allowed range 0 to 1"]),
    "horizon_before_start": (GOOD.replace("horizon_year = 2027", "horizon_year = 2019").replace(
        "start_year = 2018", "start_year = 2020"), ["params.time", "before start_year"]),
    "malformed": (GOOD.replace("[params.subsidy]", "[params.subsidy"), ["malformed TOML"]),
    "bad_lever": (GOOD + '\n[[levers]]\nid = "x"\nname_en = "x"\nname_zh = "x"\ngroup = "finance"\n'
                  'param = "subsidy.nonexistent"\nmode = "add"\nvalue = 1\n'
                  + RANGES + 'yearly_cost_yuan = 0\n'
                  'cost_source = "ASM"\n', ["levers[0]", "unknown parameter"]),
    "lever_out_of_range": (GOOD + '\n[[levers]]\nid = "x"\nname_en = "x"\nname_zh = "x"\ngroup = "finance"\n'
                           'param = "subsidy.city_rate"\nmode = "add"\nvalue = 0.9\n'
                           + RANGES + 'yearly_cost_yuan = 0\n'
                           'cost_source = "ASM"\n', ["levers.x", "subsidy.city_rate", "allowed range"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario_file(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, needles = CASES[case]
    f = tmp_path / f"{case}.toml"
    f.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", str(f), "--reps", "2", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert str(f) in err and "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [f]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "nope.toml"
    code = main(["run", str(f), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "file not found" in err and str(f) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_input_from_the_console_script(tmp_path: Path) -> None:
    import subprocess
    import sys

    f = tmp_path / "bad.toml"
    f.write_text(GOOD.replace("city_rate = 0.20", "city_rate = -1"), encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(f), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr and "city_rate" in p.stderr
    assert not (tmp_path / "o").exists()


def test_scenarios_building_on_each_other_in_a_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = '[scenario]\nid = "{}"\nname_en = "x"\nname_zh = "x"\nbase = "{}"\n'
    (tmp_path / "a.toml").write_text(head.format("a", "b.toml"), encoding="utf-8")
    (tmp_path / "b.toml").write_text(head.format("b", "a.toml"), encoding="utf-8")
    code = main(["run", str(tmp_path / "a.toml"), "--reps", "2", "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "scenario.base" in err and "a.toml → b.toml → a.toml" in err
    assert not (tmp_path / "out").exists()
