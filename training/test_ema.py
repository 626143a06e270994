"""The moving average of the weights (train.py --ema).

    cd training && python -m pytest test_ema.py      # needs requirements.txt + pytest

The average must follow the documented decay, leave a weight that never moved bit for bit as it
was, and swap with the model's weights so that two swaps restore both.
"""
import pytest
import torch

from train import WeightEMA, main


def model_with(weight):
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([weight]))
    return model


def test_the_average_follows_the_decay():
    model = model_with([1.0, 3.0])
    ema = WeightEMA(model, decay=0.99)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[2.0, 3.0]]))
    ema.update()  # first update: decay min(0.99, 2 / 11)
    decay = 2 / 11
    assert ema.shadow["weight"][0, 0].item() == pytest.approx(decay * 1.0 + (1 - decay) * 2.0)
    assert ema.shadow["weight"][0, 1].item() == 3.0  # never moved: exactly as it was
    for _ in range(1000):
        ema.update()
    # Long after the start, with the weights held still, the average has reached them.
    assert ema.shadow["weight"][0, 0].item() == pytest.approx(2.0, abs=1e-4)
    assert ema.updates == 1001


def test_two_swaps_restore_both():
    model = model_with([1.0, 2.0])
    ema = WeightEMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[5.0, 6.0]]))
    ema.update()
    average = ema.shadow["weight"].clone()
    ema.swap()
    assert torch.equal(model.weight.detach(), average)
    assert torch.equal(ema.shadow["weight"], torch.tensor([[5.0, 6.0]]))
    ema.swap()
    assert torch.equal(model.weight.detach(), torch.tensor([[5.0, 6.0]]))
    assert torch.equal(ema.shadow["weight"], average)


def test_a_saved_average_comes_back():
    model = model_with([1.0, 2.0])
    ema = WeightEMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update()
    restored = WeightEMA(model, decay=0.9)
    restored.load(ema.state())
    assert restored.updates == 1 and torch.equal(restored.shadow["weight"], ema.shadow["weight"])


@pytest.mark.parametrize("argv, message", [
    (["--ema", "1.0"], "strictly between 0 and 1"),
    (["--ema", "0.99", "--average-last", "2"], "choose one way"),
])
def test_bad_averaging_options_are_refused(argv, message, tmp_path):
    with pytest.raises(SystemExit, match=message):
        main(argv + ["--runs-dir", str(tmp_path)])
    assert not list(tmp_path.iterdir())  # refused before a run directory is made
