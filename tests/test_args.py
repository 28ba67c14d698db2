"""The one argument specification: the parsers, their error sentences and their fields."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import automl_nb
from automl_nb import errors
from automl_nb._util import DurationError, format_duration, parse_time
from automl_nb.errors import DataError, Keyword, Reopen, SearchError
from automl_nb.ui import args as _args
from automl_nb.ui import options as _options
from automl_nb.ui.args import ArgumentError, command_parser, search_parser
from automl_nb.ui.options import CELL, CLI, LINE, OPTIONS

TIME_HINT = r"write seconds \(90\) or a number with s, m or h \(90s, 10m, 1h\)"
UI = Path(_args.__file__).parent


# -- durations (automl_nb._util, which --time uses) ------------------------------------------------


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
    with pytest.raises(DurationError, match=rf"^.* is not a duration; {TIME_HINT}$") as info:
        parse_time(value)
    assert info.value.problem.endswith("is not a duration")
    assert info.value.hint.startswith("write seconds (90)")


def test_parse_time_error_is_the_documented_sentence():
    with pytest.raises(ValueError) as info:
        parse_time("10 minutes")
    assert str(info.value) == (
        "'10 minutes' is not a duration; write seconds (90) or a number with s, m or h "
        "(90s, 10m, 1h)"
    )


@pytest.mark.parametrize("value", ["0", "0s", "-5", "-1m", 0, -3.0])
def test_parse_time_rejects_zero_and_negative(value):
    with pytest.raises(ValueError, match="must be more than zero seconds"):
        parse_time(value)


def test_parse_time_rejects_other_types_with_a_value_error():
    with pytest.raises(ValueError, match="^is a list, not a duration"):
        parse_time([1])  # type: ignore[arg-type]


def test_the_library_names_the_argument_of_a_bad_time():
    with pytest.raises(SearchError, match=rf"^time 'soon' is not a duration; {TIME_HINT}$") as info:
        automl_nb.search("iris", time="soon", start=False)
    assert (info.value.argument, info.value.value) == ("time", "soon")


def test_format_duration_is_the_one_the_text_views_use():
    from automl_nb.ui import text

    assert text.format_duration is format_duration
    assert format_duration(None) == "-"
    assert format_duration(2.345) == "2.3s"
    assert format_duration(42) == "42s"
    assert format_duration(75) == "1m 15s"
    assert format_duration(5400) == "1h 30m"


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
    params = inspect.signature(automl_nb.search).parameters
    for option in OPTIONS:
        if option.dest in params:
            assert option.default == params[option.dest].default, option.dest


def test_options_that_are_search_keywords_reach_search_under_their_name():
    params = inspect.signature(automl_nb.search).parameters
    passed = [o.dest for o in OPTIONS if o.to_search]
    assert set(passed) <= set(params)
    assert {"deterministic", "overwrite", "directory", "batch_size", "oracle"} <= set(passed)
    args = search_parser(CLI).parse(["digits", "--deterministic", "--seed", "3", "--dir", "d"])
    kwargs = _options.search_kwargs(args)
    assert set(kwargs) == set(passed)
    assert (kwargs["deterministic"], kwargs["seed"], kwargs["directory"]) == (True, 3, "d")
    assert _options.search_kwargs(search_parser(LINE).parse(["digits"]))["deterministic"] is False


def test_bundled_names_and_oracles_match_the_library():
    from automl_nb import data, oracles

    assert tuple(_options.BUNDLED_DATASETS) == tuple(data.BUNDLED)
    assert tuple(_options.ORACLES) == tuple(oracles.ORACLES)


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


def test_trials_auto_can_be_written_and_extend_takes_only_numbers():
    assert search_parser(LINE).parse(["digits", "--trials", "AUTO"]).trials == "auto"
    with pytest.raises(ArgumentError, match=r"^--trials 'auto' is not a whole number"):
        command_parser("extend", LINE).parse(["--trials", "auto"])


def test_max_epochs_is_an_alias_of_epochs():
    assert search_parser(LINE).parse(["digits", "--max-epochs", "27"]).epochs == 27


def test_parser_defaults():
    args = search_parser(CLI).parse(["digits"])
    assert (args.oracle, args.trials, args.epochs, args.time, args.seed) == (
        "bayesian",
        "auto",  # search() reads it: 20 trials, or no limit when --time is given
        10,
        None,
        None,
    )
    assert args.batch_size is None and not args.overwrite  # the space's batch size, else 32
    assert (args.patience, args.warm_start) == (3, True)
    args = search_parser(CLI).parse(["digits", "--no-warm-start", "--patience", "0"])
    assert (args.patience, args.warm_start) == (0, False)


NO = errors.InputError.NO_VALUE


@pytest.mark.parametrize(
    ("argv", "message", "argument", "value"),
    [
        (["--trails", "3"], r"^unknown option --trails; did you mean --trials\?$", None, "--trails"),
        (["--frobnicate"], r"^unknown option --frobnicate$", None, "--frobnicate"),
        (
            ["--oracle", "bayes"],
            (
                r"^--oracle 'bayes' is not an oracle; choose one of: bayesian, hyperband, random; "
                r"did you mean 'bayesian'\?$"
            ),
            "--oracle",
            "bayes",
        ),
        (
            ["--time", "10 minutes"],
            rf"^--time '10 minutes' is not a duration; {TIME_HINT}$",
            "--time",
            "10 minutes",
        ),
        (["--time", "0"], r"^--time '0' must be more than zero seconds", "--time", "0"),
        (["--time", "-5s"], r"^--time '-5s' must be more than zero seconds", "--time", "-5s"),
        (["--time", "5m", "--time", "-1m"], r"^--time '-1m' must be more than zero", "--time", "-1m"),
        (["--time", "--seed", "1"], r"^--time needs a value: --time DURATION$", "--time", NO),
        (
            ["--trials", "many"],
            r"^--trials 'many' is not a whole number; write for example --trials 20$",
            "--trials",
            "many",
        ),
        (["--trials", "0"], r"^--trials must be at least 1; got 0$", "--trials", "0"),
        (["--epochs", "-2"], r"^--epochs must be at least 1; got -2$", "--epochs", "-2"),
        (["--max-epochs", "0"], r"^--epochs must be at least 1; got 0$", "--epochs", "0"),
        (["--seed", "-1"], r"^--seed must be at least 0; got -1$", "--seed", "-1"),
        (["--trials"], r"^--trials needs a value: --trials N$", "--trials", NO),
        (["--max-epochs"], r"^--epochs needs a value: --epochs N$", "--epochs", NO),
        (["--objective", "--seed", "1"], r"^--objective needs a value: --objective NAME$",
         "--objective", NO),
        (["--validation"], r"^--validation needs at least one value: --validation X y$",
         "--validation", NO),
        (["--overwrite=yes"], r"^--overwrite takes no value; got 'yes'$", "--overwrite", "yes"),
        (["--overwrite", "--overwrite=no"], r"^--overwrite takes no value; got 'no'$", "--overwrite",
         "no"),
        (["--deterministic=1"], r"^--deterministic takes no value; got '1'$", "--deterministic",
         "1"),
        (
            ["--task", "regresion"],
            (r"^--task 'regresion' is not a task; choose one of: classification, regression; "
             r"did you mean 'regression'\?$"),
            "--task",
            "regresion",
        ),
    ],
)
def test_errors_are_one_sentence_naming_the_argument(argv, message, argument, value):
    for where in (LINE, CLI):
        with pytest.raises(ArgumentError, match=message) as info:
            search_parser(where).parse(["digits", *argv])
        assert (info.value.argument, info.value.value) == (argument, value)


def test_a_refused_value_keeps_its_hint_apart():
    with pytest.raises(ArgumentError) as info:
        search_parser(LINE).parse(["digits", "--oracle", "bayse"])
    error = info.value
    assert error.problem == "'bayse' is not an oracle"
    assert error.hint == "choose one of: bayesian, hyperband, random; did you mean 'bayesian'?"
    assert isinstance(error, errors.InputError) and isinstance(error, ValueError)


def test_parser_never_exits():
    with pytest.raises(ArgumentError):
        search_parser(LINE).parse(["--help"])  # the magic handles --help itself
    assert issubclass(ArgumentError, ValueError)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prune"], r"^%automl prune needs ID; usage: %automl prune ID$"),
        (["export"], r"^%automl export needs PATH; usage: %automl export PATH \[--format FORMAT\]$"),
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
    assert command_parser("export").parse(["m.tflite", "--format", "TFLite"]).format == "tflite"
    assert command_parser("export").parse(["m.keras"]).format == "keras"
    with pytest.raises(ArgumentError, match=r"^--format 'onnx' is not an export format; choose one of: "):
        command_parser("export").parse(["m.onnx", "--format", "onnx"])
    assert _options.search_kwargs(search_parser(CLI).parse(["d.csv", "--task", "regression"]))["task"] == (
        "regression")
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
    for command in _options.COMMANDS:
        if not command.where & _options.NOTEBOOK:  # the command line's own (ls, watch)
            assert f"%automl {command.name}" not in usage
            continue
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


# -- the library's errors in the words of each door ------------------------------------------


def _existing(path="runs/a"):
    return SearchError(
        f"'{path}' already holds a search", argument="directory", value=path,
        hint=("pass ", Keyword("overwrite", True), " to replace it or ", Reopen(path),
              " to reopen and continue it"),
    )


def test_library_errors_read_in_flag_words_from_their_fields():
    error = _existing()
    assert str(error) == (
        "directory 'runs/a' already holds a search; pass overwrite=True to replace it or "
        "automl_nb.open('runs/a') to reopen and continue it"
    )
    assert error.sentence(_args.dialect(LINE)) == (
        "--dir 'runs/a' already holds a search; pass --overwrite to replace it or "
        "%automl open runs/a to reopen and continue it"
    )
    assert error.sentence(_args.dialect(CLI)) == (
        "--dir 'runs/a' already holds a search; pass --overwrite to replace it or "
        "python -m automl_nb open runs/a to reopen and continue it"
    )
    # open takes DIR, not --dir: there the argument keeps its name
    assert error.sentence(_args.dialect(CLI, "open")).startswith("directory 'runs/a' already")


def test_keywords_without_a_flag_keep_their_python_spelling():
    error = DataError(
        (Keyword("target"), " is required when data is a DataFrame"),
        hint=("pass ", Keyword("target", "<column>"), " or ", Keyword("validation_split", 0.2)),
    )
    assert str(error) == (
        "target= is required when data is a DataFrame; pass target='<column>' or "
        "validation_split=0.2"
    )
    assert error.sentence(_args.dialect(CELL)) == (
        "--target is required when data is a DataFrame; pass --target <column> or "
        "validation_split=0.2"
    )
    batch = SearchError("must be at least 1; got 0", argument="batch_size", value=0)
    assert batch.sentence(_args.dialect(CLI)) == "--batch-size must be at least 1; got 0"
    assert _args.sentence(RuntimeError("plain words"), _args.dialect(CLI)) == "plain words"


def test_no_module_of_ui_rewrites_argparse_english():
    """Argparse is used through its hooks: no regular expressions in ui/, no rewriting helpers,
    and the error sentences come from fields (argument, value, problem, hint)."""
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                    for alias in node.names} | {node.module for node in ast.walk(tree)
                                                if isinstance(node, ast.ImportFrom)}
        assert "re" not in imported, f"{path.name} imports re"
        names = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert not names & {"_rewrite", "_sentence", "for_notebook", "for_command_line",
                            "_attach_dash_values"}, path.name
    for name in ("parse_time", "format_duration", "did_you_mean", "_did_you_mean"):
        assert not hasattr(_args, name) or getattr(_args, name).__module__ == "automl_nb._util"
    with pytest.raises(ArgumentError) as info:
        search_parser(CLI).parse(["digits", "--trials", "0"])
    error = info.value
    assert (error.argument, error.value, error.problem) == ("--trials", "0", "must be at least 1; got 0")
