"""Cost from the price table: bundled prices, the user's overrides, a broken override file."""

from __future__ import annotations

import pytest

from engine.pricing import (
    PriceFileError,
    cost,
    load_prices,
    price_for,
    price_label,
    user_prices_path,
)


def test_bundled_table_prices_the_four_models_and_scripted():
    prices = load_prices()
    for model in (
        "mistral-small-latest",
        "mistral-medium-latest",
        "mistral-large-latest",
        "codestral-latest",
    ):
        assert prices[model].input_per_million > 0 < prices[model].output_per_million
    small = prices["mistral-small-latest"]
    assert cost("mistral-small-latest", 1_000_000, 0) == pytest.approx(small.input_per_million)
    assert cost("mistral-small-latest", 0, 2_000_000) == pytest.approx(2 * small.output_per_million)


def test_scripted_is_priced_as_small_and_labelled_so():
    assert cost("scripted-reference", 20_000, 500) == cost("mistral-small-latest", 20_000, 500)
    assert "priced as mistral-small" in price_label("scripted-reference")
    assert "scripted" in price_label("scripted")


def test_dated_versions_use_their_family_price_and_unknown_models_cost_nothing():
    assert price_for("mistral-small-2506") == price_for("mistral-small-latest")
    assert price_for("open-mixtral-8x7b") is None
    assert cost("open-mixtral-8x7b", 1000, 1000) == 0.0
    assert "no price known" in price_label("open-mixtral-8x7b")


def test_user_file_overrides_one_model_and_adds_another():
    path = user_prices_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[models.mistral-small-latest]\ninput = 1.0\noutput = 2.0\n\n"
        "[models.my-selfhosted]\ninput = 0\noutput = 0\n"
    )
    assert cost("mistral-small-latest", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert price_for("mistral-small-latest").source == str(path)
    assert cost("my-selfhosted", 10**6, 10**6) == 0.0 and price_for("my-selfhosted")
    # scripted follows the overridden small price: it is priced as that model.
    assert cost("scripted-reference", 1_000_000, 0) == pytest.approx(1.0)
    assert price_for("mistral-large-latest").source == "bundled"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[models.mistral-small-latest\ninput = 1", "is not valid TOML"),
        ("[models.mistral-small-latest]\ninput = 'cheap'\noutput = 1\n", "`input`"),
        ("[models.mistral-small-latest]\ninput = -1\noutput = 1\n", "non-negative"),
        ("models = 3\n", "[models.<name>]"),
        ("[models.scripted]\npriced_as = 'nope'\n", "priced_as 'nope'"),
    ],
)
def test_a_broken_override_file_is_one_sentence_naming_it(text, fragment):
    path = user_prices_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with pytest.raises(PriceFileError) as info:
        cost("mistral-small-latest", 1, 1)
    message = str(info.value)
    assert fragment in message and str(path) in message
    assert "\n" not in message and message.endswith(".")
