"""The one argument specification: parse_time, the parsers and their error sentences."""

from __future__ import annotations

import pytest

from automl_nb.ui import args as _args
from automl_nb.ui.args import (
    CELL,
    CLI,
    LINE,
    OPTIONS,
    ArgumentError,
    command_parser,
    parse_time,
    search_parser,
)

TIME_HINT = r"write seconds \(90\) or a number with s, m or h \(90s, 10m, 1h\)"


# -- parse_time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        ("2.5m", 150.0),
        ("90", 90.0),
        (" 45 ", 45.0),
        ("10M", 600.0),
        (".5h", 1800.0),
        (90, 90.0),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_parse_time_reads_durations(value, seconds):
    assert parse_time(value) == seconds


@pytest.mark.parametrize("value", ["10 minutes", "", "abc", "1x", "h", "1h30", "inf", "nan", True])
def test_parse_time_rejects_what_is_not_a_duration(value):
    with pytest.raises(ValueError, match=rf"^time .* is not a duration; {TIME_HINT}$"):
        parse_time(value)


def test_parse_time_error_is_the_documented_sentence():
    with pytest.raises(ValueError) as info:
        parse_time("10 minutes")
    assert str(info.value) == (
        "time '10 minutes' is not a duration; write seconds (90) or a number with s, m or h "
        "(90s, 10m, 1h)"
    )


@pytest.mark.parametrize("value", ["0", "0s", "-5", "-1m", 0, -3.0])
def test_parse_time_rejects_zero_and_negative(value):
    with pytest.raises(ValueError, match="must be more than zero seconds"):
        parse_time(value)


def test_parse_time_names_the_argument_it_is_given():
    with pytest.raises(ValueError, match=r"^--time 'soon' is not a duration"):
        parse_time("soon", name="--time")


def test_parse_time_rejects_other_types_with_a_value_error():
    with pytest.raises(ValueError, match="time is a list, not a duration"):
        parse_time([1])  # type: ignore[arg-type]


def test_format_duration():
    assert _args.format_duration(None) == "-"
    assert _args.format_duration(2.345) == "2.3s"
    assert _args.format_duration(42) == "42s"
    assert _args.format_duration(75) == "1m15s"
    assert _args.format_duration(5400) == "1h30m"


# -- one table, three parsers ----------------------------------------------------------------


def _defaults(where: str) -> dict:
    parser = search_parser(where)
    return {a.dest: a.default for a in parser._actions if a.option_strings}


def test_defaults_and_help_come_from_one_table():
    line, cell, cli = _defaults(LINE), _defaults(CELL), _defaults(CLI)
    for option in OPTIONS:
        for where, defaults in ((LINE, line), (CELL, cell), (CLI, cli)):
            if where in option.where:
                assert defaults[option.dest] == option.default, (option.flags, where)
            else:
                assert option.dest not in defaults, (option.flags, where)
    helps = {
        where: {a.dest: a.help for a in search_parser(where)._actions}
        for where in (LINE, CELL, CLI)
    }
    for dest in ("oracle", "trials", "epochs", "time", "seed", "directory", "batch_size"):
        assert helps[LINE][dest] == helps[CLI][dest] == helps[CELL][dest]


def test_defaults_match_the_library():
    import inspect

    from automl_nb import search

    params = inspect.signature(search).parameters
    for option in OPTIONS:
        if option.dest in params:
            assert option.default == params[option.dest].default, option.dest


def test_bundled_names_and_oracles_match_the_library():
    from automl_nb import data, oracles

    assert tuple(_args.BUNDLED_DATASETS) == tuple(data.BUNDLED)
    assert tuple(_args.ORACLES) == tuple(oracles.ORACLES)


def test_notebook_only_options_are_not_on_the_command_line():
    cli = search_parser(CLI)
    flags = {s for a in cli._actions for s in a.option_strings}
    assert {"--wait", "--no-panel", "--name", "--build", "--data"}.isdisjoint(flags)
    assert {"--oracle", "--trials", "--epochs", "--time", "--dir", "--seed"} <= flags


def test_parses_a_full_line():
    args = search_parser(LINE).parse(
        [
            "X_train",
            "--target",
            "label",
            "y_train",
            "--oracle",
            "Random",
            "--trials",
            "3",
            "--epochs",
            "2",
            "--time",
            "1h30m",
            "--seed",
            "0",
            "--dir",
            "runs/a",
            "--name",
            "s",
            "--wait",
            "--no-panel",
            "--overwrite",
            "--batch-size",
            "16",
        ]
    )
    assert args.data == ["X_train", "y_train"]  # options and DATA may interleave
    assert args.oracle == "random"
    assert (args.trials, args.epochs, args.time, args.seed) == (3, 2, 5400.0, 0)
    assert (args.directory, args.name, args.batch_size) == ("runs/a", "s", 16)
    assert args.wait and args.no_panel and args.overwrite


def test_max_epochs_is_an_alias_of_epochs():
    assert search_parser(LINE).parse(["digits", "--max-epochs", "27"]).epochs == 27


def test_parser_defaults():
    args = search_parser(CLI).parse(["digits"])
    assert (args.oracle, args.trials, args.epochs, args.time, args.seed) == (
        "bayesian",
        20,
        10,
        None,
        None,
    )
    assert args.batch_size == 32 and not args.overwrite


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--trails", "3"], r"^unknown option --trails; did you mean --trials\?$"),
        (["--frobnicate"], r"^unknown option --frobnicate$"),
        (
            ["--oracle", "bayes"],
            (
                r"^--oracle 'bayes' is not an oracle; choose one of: bayesian, hyperband, random; "
                r"did you mean 'bayesian'\?$"
            ),
        ),
        (["--time", "10 minutes"], rf"^--time '10 minutes' is not a duration; {TIME_HINT}$"),
        (["--time", "0"], r"^--time '0' must be more than zero seconds"),
        (["--trials", "many"], r"^--trials 'many' is not a whole number; write for example"),
        (["--trials", "0"], r"^--trials must be at least 1; got 0$"),
        (["--epochs", "-2"], r"^--epochs must be at least 1; got -2$"),
        (["--seed", "-1"], r"^--seed must be at least 0; got -1$"),
        (["--trials"], r"^--trials needs a value: --trials N$"),
        (["--overwrite=yes"], r"^--overwrite takes no value; got 'yes'$"),
    ],
)
def test_errors_are_one_sentence_naming_the_argument(argv, message):
    for where in (LINE, CLI):
        with pytest.raises(ArgumentError, match=message):
            search_parser(where).parse(["digits", *argv])


def test_parser_never_exits():
    with pytest.raises(ArgumentError):
        search_parser(LINE).parse(["--help"])  # the magic handles --help itself
    assert issubclass(ArgumentError, ValueError)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prune"], r"^%automl prune needs ID; usage: %automl prune ID"),
        (["prune", "1", "2"], r"^unexpected argument '2'"),
        (["promote", "3", "--epochs", "x"], r"^--epochs 'x' is not a whole number"),
        (["enqueue"], r"^%automl enqueue needs NAME=VALUE"),
        (["extend", "--time", "soon"], r"^--time 'soon' is not a duration"),
        (["pause", "--serch", "s"], r"^unknown option --serch; did you mean --search\?$"),
    ],
)
def test_command_errors(argv, message):
    with pytest.raises(ArgumentError, match=message):
        command_parser(argv[0]).parse(argv[1:])


def test_commands_parse():
    args = command_parser("promote").parse(["0003", "--epochs", "20", "--search", "s"])
    assert (args.trial_id, args.epochs, args.search) == ("0003", 20, "s")
    assert command_parser("promote").parse(["7"]).epochs == 5
    args = command_parser("extend").parse(["--trials", "4", "--time", "5m"])
    assert (args.trials, args.time) == (4, 300.0)
    assert command_parser("enqueue").parse(["lr=0.001", "units=64"]).values == [
        "lr=0.001",
        "units=64",
    ]


def test_unknown_command_suggests_one():
    with pytest.raises(ArgumentError, match=r"unknown command 'pasue'.*did you mean 'pause'\?"):
        _args.command_by_name("pasue")


# -- the usage texts ---------------------------------------------------------------------------


def test_magic_usage_lists_every_option_command_and_examples():
    usage = _args.magic_usage()
    for option in OPTIONS:
        assert option.flags[0] in usage
        assert (
            option.help.replace("%%", "%")[:30] in usage.replace("\n", " ").replace("  ", " ")
            or option.flags[0] in usage
        )
    for command in _args.COMMANDS:
        assert f"%automl {command.usage}" in usage
        assert command.help in usage
    assert "Examples:" in usage and "%automl digits" in usage and "def build(hp):" in usage
    assert "DATA may not be a command word" in usage


def test_cli_help_shows_the_same_help_texts():
    text = _args.cli_search_help()
    assert "usage: python -m automl_nb search DATA [options]" in text
    for dest in ("oracle", "trials", "time"):
        option = next(o for o in OPTIONS if o.dest == dest)
        first_words = " ".join(option.help.split()[:4])
        assert first_words in " ".join(text.split())
    assert "--wait" not in text


# -- library sentences in the words of the magic and the command line ------------------------


def test_library_keyword_advice_becomes_options():
    message = (
        "directory 'runs/a' already holds a search; pass overwrite=True to replace it or "
        "automl_nb.open('runs/a') to reopen and continue it"
    )
    assert _args.for_notebook(message) == (
        "directory 'runs/a' already holds a search; pass --overwrite to replace it or "
        "%automl open runs/a to reopen and continue it"
    )
    assert "python -m automl_nb open runs/a" in _args.for_command_line(message)
    assert _args.for_notebook("a DataFrame needs target= naming") == (
        "a DataFrame needs --target naming"
    )
    assert _args.for_notebook("use target='<column>'") == "use --target <column>"
    # a call's keyword and other words stay as they are
    kept = "call extend(time='5m') to continue; validation_split= is fine"
    assert _args.for_notebook(kept) == kept
