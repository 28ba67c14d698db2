"""Tests for automl_nb.data: every input kind, the preprocessing spec, splits and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_nb.data import (
    BUNDLED,
    DataError,
    Dataset,
    apply_preprocessing,
    describe_input,
    load_data,
)

# ---------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture
def frame() -> pd.DataFrame:
    """A small mixed-type frame with missing values in numeric and categorical columns."""
    rng = np.random.default_rng(0)
    n = 40
    age = rng.integers(18, 80, n).astype(float)
    age[[3, 17]] = np.nan
    colors = np.array(["red", "green", "blue"], dtype=object)[rng.integers(0, 3, n)]
    colors[[5, 9]] = None
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.normal(50_000, 10_000, n),
            "color": colors,
            "member": rng.integers(0, 2, n).astype(bool),
            "constant": np.ones(n),
            "label": np.array(["yes", "no"], dtype=object)[np.arange(n) % 2],
        }
    )


def _write_images(root: Path, classes: dict[str, int], size=(12, 10), mode="RGB") -> Path:
    from PIL import Image

    rng = np.random.default_rng(1)
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            Image.fromarray(pixels, mode=mode).save(root / name / f"{i}.png")
    return root


# ---------------------------------------------------------------------------------------------
# bundled sets


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_sets_load(name: str) -> None:
    ds = load_data(name, seed=0)
    assert ds.name == name
    assert ds.task == "classification"
    assert ds.x_train.dtype == np.float32 and ds.x_val.dtype == np.float32
    assert ds.y_train.dtype == np.int64 and ds.y_val.dtype == np.int64
    assert ds.y_train.ndim == 1
    assert ds.n_classes == len(ds.class_names) >= 2
    assert set(np.unique(ds.y_train)) == set(range(ds.n_classes))
    assert ds.preprocessing is None
    json.dumps(ds.summary())


def test_digits_is_an_image_scaled_to_unit_range() -> None:
    ds = load_data("digits")
    assert ds.family == "image"
    assert ds.input_shape == (8, 8, 1)
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0 and ds.x_train.max() == 1.0
    assert ds.class_names == [str(i) for i in range(10)]
    assert ds.label_dtype == "int"
    assert ds.decode([3, 0]) == [3, 0]
    assert ds.feature_names is None


def test_tabular_bundled_set_is_standardised_on_train() -> None:
    ds = load_data("iris", seed=3)
    assert ds.family == "tabular" and ds.input_shape == (4,)
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1.0, atol=1e-4)
    assert ds.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.decode([0, 2]) == ["setosa", "virginica"]
    assert ds.feature_names[0] == "sepal length (cm)"


def test_bundled_name_is_forgiving_about_case_and_dashes() -> None:
    assert load_data("Breast-Cancer").name == "breast_cancer"


def test_summary_is_json() -> None:
    summary = load_data("wine").summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["n_train"] + summary["n_val"] == 178
    assert summary["input_shape"] == [13]
    for key in ("name", "family", "task", "n_classes", "class_names", "feature_names"):
        assert key in summary


# ---------------------------------------------------------------------------------------------
# arrays


def test_arrays_tabular_int_labels() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = np.array([7, 3] * 25)
    ds = load_data((x, y), seed=1)
    assert ds.name == "arrays" and ds.family == "tabular"
    assert ds.class_names == ["3", "7"] and ds.label_dtype == "int"
    assert ds.x_train.dtype == np.float32
    assert len(ds.x_train) == 40 and len(ds.x_val) == 10
    assert ds.decode([0, 1, 1]) == [3, 7, 7]
    assert all(type(v) is int for v in ds.decode(np.array([0, 1])))


def test_arrays_are_not_standardised() -> None:
    x = np.arange(40, dtype=np.float64).reshape(20, 2) * 100
    ds = load_data((x, [0, 1] * 10))
    rows = {tuple(r) for r in np.concatenate([ds.x_train, ds.x_val]).tolist()}
    assert rows == {tuple(r) for r in x.astype(np.float32).tolist()}


def test_arrays_string_labels_and_decode() -> None:
    x = np.zeros((30, 2))
    y = ["dog", "cat", "bird"] * 10
    ds = load_data([x, y])
    assert ds.class_names == ["bird", "cat", "dog"]
    assert ds.label_dtype == "str"
    assert ds.decode([2, 0]) == ["dog", "bird"]
    # scores (N, K) decode by argmax
    assert ds.decode(np.array([[0.1, 0.8, 0.1]])) == ["cat"]


def test_decode_rejects_out_of_range_index() -> None:
    ds = load_data((np.zeros((10, 1)), [0, 1] * 5))
    with pytest.raises(DataError, match="class index 5 is out of range; this data set has 2"):
        ds.decode([5])


def test_bool_labels_are_string_classes() -> None:
    ds = load_data((np.zeros((10, 1)), np.array([True, False] * 5)))
    assert ds.class_names == ["False", "True"] and ds.label_dtype == "str"


def test_pandas_categorical_labels() -> None:
    y = pd.Series(pd.Categorical(["lo", "hi"] * 6))
    ds = load_data((np.zeros((12, 2)), y))
    assert ds.class_names == ["hi", "lo"]


def test_float_labels_are_regression() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4))
    y = np.arange(30, dtype=np.float64)  # whole numbers, still regression
    ds = load_data((x, y))
    assert ds.task == "regression" and ds.label_dtype == "float"
    assert ds.class_names is None and ds.n_classes is None
    assert ds.y_train.dtype == np.float32 and ds.y_train.ndim == 1
    assert ds.decode([1.5]) == [1.5]
    assert sorted(np.concatenate([ds.y_train, ds.y_val]).tolist()) == list(range(30))


def test_column_vector_labels_are_flattened() -> None:
    ds = load_data((np.zeros((10, 2)), np.array([[0], [1]] * 5)))
    assert ds.y_train.ndim == 1


def test_dataframe_x_with_y_is_treated_as_arrays() -> None:
    x = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) * 2})
    ds = load_data((x, [0, 1] * 5))
    assert ds.name == "arrays" and ds.feature_names == ["a", "b"]
    assert ds.preprocessing is None


def test_sequence_family() -> None:
    x = np.random.default_rng(0).normal(size=(20, 7, 3))
    ds = load_data((x, [0, 1] * 10))
    assert ds.family == "sequence" and ds.input_shape == (7, 3)


def test_uint8_three_d_is_a_one_channel_image() -> None:
    x = np.full((20, 9, 9), 255, dtype=np.uint8)
    ds = load_data((x, [0, 1] * 10))
    assert ds.family == "image" and ds.input_shape == (9, 9, 1)
    assert ds.x_train.max() == 1.0


def test_four_d_images_uint8_scaled_float_kept() -> None:
    x8 = np.full((20, 6, 6, 3), 51, dtype=np.uint8)
    ds = load_data((x8, [0, 1] * 10))
    assert ds.family == "image" and ds.input_shape == (6, 6, 3)
    np.testing.assert_allclose(ds.x_train, 0.2)
    xf = np.full((20, 6, 6, 3), 3.5, dtype=np.float64)
    ds = load_data((xf, [0, 1] * 10))
    assert ds.x_train.dtype == np.float32
    np.testing.assert_allclose(ds.x_train, 3.5)


def test_explicit_validation_arrays() -> None:
    x = np.arange(20.0).reshape(10, 2)
    xv = np.arange(8.0).reshape(4, 2) + 100
    ds = load_data((x, ["a", "b"] * 5), validation=(xv, ["b", "b", "a", "a"]))
    np.testing.assert_array_equal(ds.x_train, x.astype(np.float32))
    np.testing.assert_array_equal(ds.x_val, xv.astype(np.float32))
    assert ds.decode(ds.y_val) == ["b", "b", "a", "a"]


def test_explicit_validation_three_d_uint8_images() -> None:
    x = np.zeros((10, 8, 8), dtype=np.uint8)
    ds = load_data((x, [0, 1] * 5), validation=(np.zeros((4, 8, 8), np.uint8), [0, 1, 0, 1]))
    assert ds.x_val.shape == (4, 8, 8, 1)


# ---------------------------------------------------------------------------------------------
# splits


def test_same_seed_same_split_other_seed_other_split() -> None:
    x = np.arange(200.0).reshape(100, 2)
    y = np.arange(100) % 3
    a = load_data((x, y), seed=5)
    b = load_data((x, y), seed=5)
    c = load_data((x, y), seed=6)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.x_val, c.x_val)
    # seed None means 0
    np.testing.assert_array_equal(load_data((x, y)).x_val, load_data((x, y), seed=0).x_val)


def test_bundled_split_is_deterministic() -> None:
    np.testing.assert_array_equal(load_data("iris", seed=2).y_val, load_data("iris", seed=2).y_val)


def test_split_is_stratified_for_classification() -> None:
    x = np.zeros((100, 1))
    y = np.array([0] * 90 + [1] * 10)
    for seed in range(5):
        ds = load_data((x, y), seed=seed, validation_split=0.2)
        assert np.bincount(ds.y_val).tolist() == [18, 2]


def test_split_falls_back_to_unstratified_with_singleton_class() -> None:
    x = np.zeros((20, 1))
    y = np.array([0] * 10 + [1] * 9 + [2])
    ds = load_data((x, y), seed=0)
    assert len(ds.y_train) + len(ds.y_val) == 20
    assert ds.n_classes == 3


def test_validation_split_fraction() -> None:
    ds = load_data((np.zeros((100, 1)), [0, 1] * 50), validation_split=0.3)
    assert (len(ds.x_train), len(ds.x_val)) == (70, 30)


# ---------------------------------------------------------------------------------------------
# DataFrames and the preprocessing spec


def test_dataframe_encoding_and_feature_names(frame: pd.DataFrame) -> None:
    ds = load_data(frame, target="label", seed=0)
    assert ds.name == "dataframe" and ds.family == "tabular"
    assert ds.class_names == ["no", "yes"] and ds.label_dtype == "str"
    names = ds.feature_names
    assert names[:2] == ["age", "income"]
    assert "color=red" in names and "member=True" in names and "constant" in names
    assert "label" not in " ".join(names)
    assert ds.input_shape == (len(names),)
    assert ds.x_train.dtype == np.float32
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_val).all()
    # numeric columns are standardised on the train split; std 0 -> 1
    np.testing.assert_allclose(ds.x_train[:, names.index("income")].mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train[:, names.index("income")].std(), 1.0, atol=1e-4)
    np.testing.assert_array_equal(ds.x_train[:, names.index("constant")], 0.0)
    json.loads(json.dumps(ds.preprocessing))


def test_spec_round_trip_reproduces_training_rows(frame: pd.DataFrame) -> None:
    train, val = frame.iloc[:30], frame.iloc[30:]
    ds = load_data(train, target="label", validation=val)
    spec = json.loads(json.dumps(ds.preprocessing))  # as saved next to an exported model
    raw = train.drop(columns="label")  # the target may be absent...
    np.testing.assert_array_equal(apply_preprocessing(spec, raw), ds.x_train)
    np.testing.assert_array_equal(apply_preprocessing(spec, val), ds.x_val)  # ...or present
    # columns are found by name, not position
    shuffled = raw[list(reversed(raw.columns))]
    np.testing.assert_array_equal(apply_preprocessing(spec, shuffled), ds.x_train)


def test_spec_round_trip_with_a_seeded_split(frame: pd.DataFrame) -> None:
    ds = load_data(frame, target="label", seed=4)
    every = apply_preprocessing(ds.preprocessing, frame)
    rows = {tuple(r) for r in every.tolist()}
    assert all(tuple(r) in rows for r in ds.x_train.tolist())
    assert all(tuple(r) in rows for r in ds.x_val.tolist())


def test_missing_values_are_imputed_from_train(frame: pd.DataFrame) -> None:
    ds = load_data(frame, target="label", validation=frame.iloc[:5])
    spec = ds.preprocessing
    age = next(c for c in spec["columns"] if c["name"] == "age")
    assert age["median"] == float(np.nanmedian(frame["age"]))
    names = ds.feature_names
    row = apply_preprocessing(spec, frame.iloc[[3]])[0]  # age missing
    expected = (age["median"] - age["mean"]) / age["std"]
    assert row[names.index("age")] == pytest.approx(expected, rel=1e-6)
    row = apply_preprocessing(spec, frame.iloc[[5]])[0]  # color missing
    assert row[names.index("color=__missing__")] == 1.0
    assert row[names.index("color=red")] == 0.0


def test_unseen_category_and_missing_values_at_predict_time(frame: pd.DataFrame) -> None:
    ds = load_data(frame, target="label")
    names = ds.feature_names
    raw = pd.DataFrame(
        {"age": [None], "income": [50_000.0], "color": ["purple"],
         "member": [True], "constant": [1.0]}
    )
    row = apply_preprocessing(ds.preprocessing, raw)[0]
    color = [i for i, n in enumerate(names) if n.startswith("color=")]
    assert (row[color] == 0.0).all()
    assert row[names.index("member=True")] == 1.0
    # a list of row dicts works too
    same = apply_preprocessing(ds.preprocessing, raw.to_dict("records"))
    np.testing.assert_array_equal(same[0], row)


def test_apply_preprocessing_missing_column(frame: pd.DataFrame) -> None:
    ds = load_data(frame, target="label")
    with pytest.raises(DataError, match="frame is missing column 'color'; it needs the columns"):
        apply_preprocessing(ds.preprocessing, frame.drop(columns=["color"]))


def test_apply_preprocessing_non_number(frame: pd.DataFrame) -> None:
    ds = load_data(frame, target="label")
    bad = frame.astype({"age": object})
    bad.loc[0, "age"] = "old"
    with pytest.raises(DataError, match="column 'age' has the value 'old', which is not a number"):
        apply_preprocessing(ds.preprocessing, bad)


def test_dataframe_int_labels_and_regression() -> None:
    df = pd.DataFrame({"x": np.arange(20.0), "cls": [1, 5] * 10, "price": np.arange(20) * 1.5})
    ds = load_data(df.drop(columns="price"), target="cls")
    assert ds.class_names == ["1", "5"] and ds.decode([1]) == [5]
    ds = load_data(df.drop(columns="cls"), target="price")
    assert ds.task == "regression" and ds.y_train.dtype == np.float32


def test_dataframe_validation_as_frame_pair() -> None:
    df = pd.DataFrame({"x": np.arange(20.0), "y": ["a", "b"] * 10})
    val_x = pd.DataFrame({"x": [1.0, 2.0]})
    ds = load_data(df, target="y", validation=(val_x, ["b", "a"]))
    assert ds.decode(ds.y_val) == ["b", "a"]
    assert len(ds.x_train) == 20


def test_pandas_string_and_category_columns() -> None:
    df = pd.DataFrame(
        {
            "s": pd.Series(["a", "b", None, "a"] * 5, dtype="str"),
            "c": pd.Categorical([1, 2, 3, 1] * 5),
            "y": [0, 1] * 10,
        }
    )
    ds = load_data(df, target="y")
    assert ds.feature_names == ["s=__missing__", "s=a", "s=b", "c=1", "c=2", "c=3"]
    # an int value where training saw a category 1 encodes the same
    row = apply_preprocessing(ds.preprocessing, pd.DataFrame({"s": ["b"], "c": [1.0]}))[0]
    assert row.tolist() == [0, 0, 1, 1, 0, 0]


# ---------------------------------------------------------------------------------------------
# CSV files and image folders


def test_csv_file(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    ds = load_data(path, target="label", seed=0)
    assert ds.name == "customers"
    assert ds.preprocessing is not None and "color=red" in ds.feature_names
    same = load_data(str(path), target="label", seed=0)
    np.testing.assert_array_equal(ds.x_train, same.x_train)
    raw = pd.read_csv(path)
    every = apply_preprocessing(ds.preprocessing, raw)
    rows = {tuple(r) for r in every.tolist()}
    assert all(tuple(r) in rows for r in ds.x_train.tolist())


def test_csv_validation_path(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.iloc[:30].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[30:].to_csv(tmp_path / "val.csv", index=False)
    ds = load_data(tmp_path / "train.csv", target="label", validation=tmp_path / "val.csv")
    assert (len(ds.x_train), len(ds.x_val)) == (30, 10)


def test_image_folder_rgb(tmp_path: Path) -> None:
    root = _write_images(tmp_path / "pets", {"dog": 6, "cat": 6})
    ds = load_data(root, seed=0)
    assert ds.name == "pets" and ds.family == "image"
    assert ds.input_shape == (10, 12, 3)
    assert ds.class_names == ["cat", "dog"] and ds.label_dtype == "str"
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert len(ds.x_train) + len(ds.x_val) == 12
    assert sorted(ds.decode(np.concatenate([ds.y_train, ds.y_val]))) == ["cat"] * 6 + ["dog"] * 6
    assert load_data(str(root), seed=0).x_val.tolist() == ds.x_val.tolist()


def test_image_folder_grayscale_and_mixed(tmp_path: Path) -> None:
    gray = _write_images(tmp_path / "gray", {"a": 3, "b": 3}, mode="L")
    assert load_data(gray, validation_split=0.34).input_shape == (10, 12, 1)
    mixed = _write_images(tmp_path / "mixed", {"a": 3}, mode="L")
    _write_images(mixed, {"b": 3}, mode="RGB")
    assert load_data(mixed, validation_split=0.34).input_shape == (10, 12, 3)


def test_image_folder_validation_folder(tmp_path: Path) -> None:
    train = _write_images(tmp_path / "train", {"a": 3, "b": 3})
    val = _write_images(tmp_path / "val", {"b": 2})
    ds = load_data(train, validation=val)
    assert len(ds.x_train) == 6 and ds.decode(ds.y_val) == ["b", "b"]


# ---------------------------------------------------------------------------------------------
# describe_input and Dataset pass-through


def test_describe_input(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("a,b\n1,2\n")
    (tmp_path / "photos").mkdir()
    assert describe_input("digits") == "digits"
    assert describe_input((np.zeros(1), np.zeros(1))) == "arrays"
    assert describe_input(pd.DataFrame()) == "dataframe"
    assert describe_input(tmp_path / "sales.csv") == "sales"
    assert describe_input(str(tmp_path / "photos") + "/") == "photos"
    assert describe_input(42) == "data"


def test_dataset_passes_through() -> None:
    ds = load_data("iris")
    assert load_data(ds) is ds
    assert isinstance(ds, Dataset) and "iris" in repr(ds)


def test_import_is_cheap() -> None:
    code = (
        "import sys, automl_nb.data\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner', 'ipywidgets', 'plotly',"
        " 'IPython', 'sklearn', 'PIL') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# errors


def test_unknown_name_with_suggestion() -> None:
    with pytest.raises(
        DataError,
        match=r"data 'digts' is not a bundled data set, a CSV file or an image folder; "
        r"bundled sets are: digits, iris, wine, breast_cancer; did you mean 'digits'\?",
    ):
        load_data("digts")


def test_unknown_name_without_suggestion() -> None:
    with pytest.raises(DataError, match=r"bundled sets are: digits, iris, wine, breast_cancer$"):
        load_data("zzzzqq")


def test_dataframe_without_target(frame: pd.DataFrame) -> None:
    with pytest.raises(
        DataError,
        match=r"target= is required when data is a DataFrame; pass target='<column>' "
        r"\(columns are: age, income, color, member, constant, label\)",
    ):
        load_data(frame)


def test_csv_without_target(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(DataError, match="target= is required"):
        load_data(tmp_path / "f.csv")


def test_target_not_a_column(frame: pd.DataFrame) -> None:
    with pytest.raises(
        DataError,
        match=r"target 'lable' is not a column of the data; columns are: age, .*label; "
        r"did you mean 'label'\?",
    ):
        load_data(frame, target="lable")


def test_long_column_lists_are_abbreviated() -> None:
    df = pd.DataFrame({f"c{i}": [0.0, 1.0] for i in range(30)})
    with pytest.raises(DataError, match=r"c0, c1, c2, c3, c4, \.\.\., c27, c28, c29 \(30 in all\)"):
        load_data(df, target="nope")


def test_length_mismatch() -> None:
    with pytest.raises(
        DataError,
        match="data: X has 100 rows but y has 99 labels; they must be the same length",
    ):
        load_data((np.zeros((100, 2)), np.zeros(99, dtype=int)))


def test_empty_data() -> None:
    with pytest.raises(DataError, match="data: X has no rows"):
        load_data((np.zeros((0, 3)), np.zeros(0)))
    with pytest.raises(DataError, match="data has no rows"):
        load_data(pd.DataFrame({"a": [], "y": []}), target="y")
    with pytest.raises(DataError, match="each sample needs at least one value"):
        load_data((np.zeros((5, 0)), np.zeros(5)))


def test_single_class() -> None:
    with pytest.raises(
        DataError, match="y has a single class 'a'; classification needs at least two classes"
    ):
        load_data((np.zeros((10, 2)), ["a"] * 10))
    with pytest.raises(DataError, match="target 'y' has a single class '1'"):
        load_data(pd.DataFrame({"x": range(5), "y": [1] * 5}), target="y")


def test_nan_and_inf_in_array_features() -> None:
    x = np.zeros((10, 2))
    x[0, 0] = np.nan
    x[1, 1] = np.inf
    with pytest.raises(
        DataError, match="data: X has 2 NaN or infinite values; impute them first .*DataFrame"
    ):
        load_data((x, [0, 1] * 5))


def test_nan_in_labels() -> None:
    y = np.array([0.5] * 10)
    y[3] = np.nan
    with pytest.raises(DataError, match="y has 1 missing \\(NaN or infinite\\) label; drop"):
        load_data((np.zeros((10, 1)), y))
    with pytest.raises(DataError, match="y has 1 missing"):
        load_data((np.zeros((3, 1)), ["a", None, "b"]))


def test_missing_target_values_in_frame() -> None:
    df = pd.DataFrame({"x": range(6), "y": ["a", "b", None, "a", "b", None]})
    with pytest.raises(
        DataError, match=r"target 'y' has 2 missing values; drop those rows first \(df\.dropna"
    ):
        load_data(df, target="y")


@pytest.mark.parametrize("shape", [(10,), (2, 2, 2, 2, 2)])
def test_bad_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(DataError, match=r"data: X has shape .*pass \(N, features\) for tabular"):
        load_data((np.zeros(shape), np.zeros(shape[0])))


def test_one_d_suggests_reshape() -> None:
    with pytest.raises(DataError, match=r"X\.reshape\(-1, 1\)"):
        load_data((np.zeros(10), np.zeros(10)))


def test_non_numeric_array_features() -> None:
    with pytest.raises(DataError, match="X holds non-numeric values \\(such as 'red'\\)"):
        load_data((np.array([["red", 1], ["blue", 2]], dtype=object), [0, 1]))


def test_missing_csv_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data 'nope\.csv' does not exist .*existing CSV file$"):
        load_data("nope.csv", target="y")
    with pytest.raises(DataError, match="does not exist"):
        load_data(tmp_path / "missing_folder")


def test_empty_and_malformed_csv(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="is empty; pass a CSV file with a header row"):
        load_data(tmp_path / "empty.csv", target="y")


def test_image_folder_without_class_folders(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    with pytest.raises(DataError, match="image folder .* has no class sub-folders"):
        load_data(tmp_path / "imgs")


def test_image_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    (tmp_path / "imgs" / "b").mkdir()
    (tmp_path / "imgs" / "b" / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match="holds no images"):
        load_data(tmp_path / "imgs")


def test_image_folder_with_one_class(tmp_path: Path) -> None:
    root = _write_images(tmp_path / "one", {"a": 4})
    with pytest.raises(DataError, match="has a single class 'a'"):
        load_data(root)


def test_mixed_image_sizes(tmp_path: Path) -> None:
    root = _write_images(tmp_path / "imgs", {"a": 2})
    _write_images(root, {"b": 2}, size=(20, 20))
    with pytest.raises(
        DataError,
        match=r"images must all be the same size, but '.*0\.png' is 12x10 and "
        r"'.*b.0\.png' is 20x20; resize",
    ):
        load_data(root)


def test_validation_wrong_feature_shape() -> None:
    with pytest.raises(
        DataError, match=r"validation: X_val has sample shape \(3,\) .* but X has \(4,\)"
    ):
        load_data((np.zeros((10, 4)), [0, 1] * 5), validation=(np.zeros((4, 3)), [0, 1, 0, 1]))


def test_validation_unknown_label() -> None:
    with pytest.raises(DataError, match="y_val has label 'c', which y does not have"):
        load_data((np.zeros((10, 1)), ["a", "b"] * 5), validation=(np.zeros((2, 1)), ["a", "c"]))


def test_validation_wrong_type() -> None:
    with pytest.raises(DataError, match=r"validation must be a pair \(X_val, y_val\)"):
        load_data((np.zeros((10, 1)), [0, 1] * 5), validation=np.zeros((2, 1)))
    with pytest.raises(DataError, match="validation= is not supported with the bundled set"):
        load_data("iris", validation=(np.zeros((2, 4)), [0, 1]))


def test_validation_frame_without_target(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="validation has no target column 'label'"):
        load_data(frame, target="label", validation=frame.drop(columns="label"))


@pytest.mark.parametrize("split", [0, 1, 1.5, -0.1, "0.2", True])
def test_validation_split_out_of_range(split: object) -> None:
    with pytest.raises(
        DataError, match="validation_split must be a number between 0 and 1 \\(exclusive\\)"
    ):
        load_data("iris", validation_split=split)


def test_too_few_samples_for_a_split() -> None:
    with pytest.raises(
        DataError,
        match=r"data has 5 samples, too few to hold out validation_split=0\.2: that leaves 4 "
        r"for training and 1 for validation, and each needs at least 2",
    ):
        load_data((np.zeros((5, 1)), [0, 1, 0, 1, 0]))


@pytest.mark.parametrize("bad", [42, 3.5, None, {"x": 1}])
def test_wrong_type(bad: object) -> None:
    with pytest.raises(
        DataError,
        match=r"data must be a bundled data set name \(digits, iris, wine, breast_cancer\), "
        r"a tuple \(X, y\) of arrays, a pandas DataFrame with target=.*got ",
    ):
        load_data(bad)


def test_tuple_of_wrong_length() -> None:
    with pytest.raises(DataError, match=r"data as a tuple must be a pair \(X, y\) of arrays; got 3 items"):
        load_data((np.zeros((4, 1)), [0, 1, 0, 1], None))


def test_target_with_arrays_is_rejected() -> None:
    with pytest.raises(DataError, match="target= applies only to a DataFrame or CSV file"):
        load_data((np.zeros((10, 1)), [0, 1] * 5), target="y")


def test_datetime_column() -> None:
    df = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=6), "y": [0, 1] * 3})
    with pytest.raises(DataError, match="column 'when' holds dates or times"):
        load_data(df, target="y")


def test_bad_seed() -> None:
    with pytest.raises(DataError, match="seed must be an int or None"):
        load_data("iris", seed="1")


def test_data_error_is_a_value_error() -> None:
    assert issubclass(DataError, ValueError)
