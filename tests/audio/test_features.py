"""Log-mel and MFCC features of a padded batch against librosa 0.11 on each utterance alone.

Two oracles. In float64 the same steps done by librosa (``librosa.stft``, ``librosa.filters.mel``
in float64, ``power_to_db``) agree to rounding: 1e-9 dB asked for. In float32 against what a user
calls, ``librosa.feature.melspectrogram`` on float32 samples (librosa multiplies by a float64
window, so its FFT runs in float64; ours is float32 throughout): mel powers differ by at most
3.1e-7 of the utterance's largest (1e-6 asked for), which is 2.5e-4 dB at bins within 60 dB of the
loudest (1e-3 dB asked for) and 1.4e-3 dB down at an 80 dB top_db floor (5e-3 asked for). Against
the float64 result, librosa's float32 errors are 3e-4 dB at most, ours 1.4e-3 dB.
"""

import math
import warnings

import librosa
import numpy as np
import pytest
import torch

from seqlab.audio.features import (
    LogMelSpectrogram,
    dct_matrix,
    frame_lengths,
    mfcc,
    normalise_per_utterance,
)
from seqlab.audio.mel import mel_filterbank
from seqlab.errors import SeqlabError

RATE = 8000
LENGTHS = [3600, 1149, 2500, 4001, 60, 257]  # FSDD-like lengths (0.14 s to 0.5 s) and two shorter than a window


def signal(kind: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """A chirp, white noise, a harmonic 'vowel', sines or noise with silent stretches, about ±0.5; float64."""
    t = np.arange(length) / RATE
    if kind == "chirp":  # 100 Hz to 3.9 kHz, linear
        return 0.5 * np.sin(2 * np.pi * (100 * t + (3800 / max(t[-1], 1e-3)) * t * t / 2))
    if kind == "noise":
        return 0.2 * rng.standard_normal(length)
    if kind == "vowel":  # 120 Hz and its harmonics, 1/k, with a rising and falling envelope
        harmonics = np.arange(1, 30)
        tones = (np.sin(2 * np.pi * 120 * harmonics[:, None] * t) / harmonics[:, None]).sum(0)
        return 0.3 * np.sin(np.pi * np.arange(length) / length) * tones
    if kind == "sines":
        return 0.25 * (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 1330 * t + 1.0))
    gated = 0.3 * rng.standard_normal(length)  # digital silence in the middle: the top_db floor
    gated[length // 3 : 2 * length // 3] = 0.0
    return gated


KINDS = ["chirp", "noise", "vowel", "sines", "gated"]
LIBROSA_DEFAULTS = dict(n_fft=256, win_length=200, hop_length=80, n_mels=40)  # LogMelSpectrogram's


def padded_batch(lengths=LENGTHS, dtype=np.float32, seed=0, junk=7.0):
    """Utterances of several kinds padded with ``junk`` (which must not be read). -> list of arrays, (B, S), (B,)."""
    rng = np.random.default_rng(seed)
    utterances = [signal(KINDS[i % len(KINDS)], n, rng).astype(dtype) for i, n in enumerate(lengths)]
    batch = np.full((len(lengths), max(lengths)), junk, dtype=dtype)
    for row, utterance in zip(batch, utterances):
        row[: len(utterance)] = utterance
    return utterances, torch.from_numpy(batch), torch.tensor(lengths)


SETTINGS = [
    dict(),  # the defaults: 25 ms / 10 ms at 8 kHz, 40 mels
    dict(n_fft=512, win_length=400, hop_length=160, n_mels=64),
    dict(n_fft=255, win_length=255, hop_length=64, n_mels=30, fmin=100.0, fmax=3500.0),
    dict(n_fft=128, win_length=128, hop_length=32, n_mels=20, htk=True, norm=None, window="hamming"),
    dict(pad_mode="reflect"),
    dict(center=False),
    dict(power=1.0, ref="max", top_db=60.0),
    dict(top_db=None, amin=1e-5, ref=0.5),
]


def librosa_kwargs(settings: dict) -> tuple[dict, dict]:
    """librosa's arguments for ``melspectrogram``/``stft`` and for ``power_to_db``."""
    stft = dict(n_fft=256, win_length=200, hop_length=80, window="hann", center=True, pad_mode="constant")
    mel = dict(n_mels=40, fmin=0.0, fmax=None, htk=False, norm="slaney")
    db = dict(ref=1.0, amin=1e-10, top_db=80.0)
    for key, value in settings.items():
        for group in (stft, mel, db):
            if key in group:
                group[key] = np.max if value == "max" else value
    return stft | mel | dict(power=settings.get("power", 2.0)), db


def usable(lengths, settings):
    return [n for n in lengths if settings.get("center", True) or n >= settings.get("n_fft", 256)]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "defaults")
def test_each_utterance_of_a_float64_batch_equals_librosa_steps_alone(settings):
    lengths = usable(LENGTHS, settings)
    utterances, waveforms, lengths = padded_batch(lengths, dtype=np.float64)
    features, frames = LogMelSpectrogram(RATE, **settings)(waveforms, lengths)
    assert features.dtype == torch.float64
    mel_args, db_args = librosa_kwargs(settings)
    stft_args = {k: mel_args[k] for k in ("n_fft", "win_length", "hop_length", "window", "center", "pad_mode")}
    filter_args = {k: mel_args[k] for k in ("n_fft", "n_mels", "fmin", "fmax", "htk", "norm")}
    filters = librosa.filters.mel(sr=RATE, **filter_args, dtype=np.float64)
    for i, y in enumerate(utterances):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # n_fft longer than the signal
            power = np.abs(librosa.stft(y, **stft_args)) ** mel_args["power"]
        expected = librosa.power_to_db(filters @ power, **db_args).T  # (T_i, n_mels)
        assert frames[i] == len(expected)
        np.testing.assert_allclose(features[i, : frames[i]].numpy(), expected, rtol=0, atol=1e-9)
        assert not features[i, frames[i] :].any()


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "defaults")
def test_each_utterance_of_a_float32_batch_equals_librosa_melspectrogram_alone(settings):
    lengths = usable(LENGTHS, settings) + [1] * settings.get("center", True)
    utterances, waveforms, lengths = padded_batch(lengths)
    module = LogMelSpectrogram(RATE, **settings)
    features, frames = module(waveforms, lengths)
    powers, same_frames = module.mel_power(waveforms, lengths)
    assert features.dtype == powers.dtype == torch.float32 and torch.equal(frames, same_frames)
    mel_args, db_args = librosa_kwargs(settings)
    for i, y in enumerate(utterances):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected_power = librosa.feature.melspectrogram(y=y, sr=RATE, **mel_args).T  # (T_i, n_mels)
        expected = librosa.power_to_db(expected_power.T, **db_args).T
        loud = expected >= expected.max() - 60.0 * module.power / 2  # within 60 dB (in power) of the loudest
        np.testing.assert_allclose(features[i, : frames[i]].numpy()[loud], expected[loud], rtol=0, atol=1e-3)
        if module.power == 2.0:
            np.testing.assert_allclose(features[i, : frames[i]].numpy(), expected, rtol=0, atol=5e-3)
        np.testing.assert_allclose(
            powers[i, : frames[i]].numpy(), expected_power, rtol=0, atol=1e-6 * expected_power.max()
        )
        assert not features[i, frames[i] :].any() and not powers[i, frames[i] :].any()


def test_frame_counts_are_librosas_and_torch_stfts():
    for n_fft, hop, center in [(256, 80, True), (255, 64, True), (256, 80, False), (400, 160, True)]:
        lengths = torch.tensor([400, 401, 479, 480, 481, 4001])
        counts = frame_lengths(lengths, n_fft, hop, center)
        for length, count in zip(lengths.tolist(), counts.tolist()):
            spectrum = torch.stft(
                torch.zeros(length), n_fft, hop, window=torch.ones(n_fft), center=center, return_complex=True
            )
            assert spectrum.shape[1] == count
            assert frame_lengths(length, n_fft, hop, center) == count


def test_what_lies_past_a_length_is_never_read_nor_given_a_gradient():
    _, waveforms, lengths = padded_batch(dtype=np.float64, junk=0.0)
    module = LogMelSpectrogram(RATE, log="natural", top_db=None)
    clean, _ = module(waveforms, lengths)
    noisy = waveforms.clone()
    past = torch.arange(waveforms.shape[1]) >= lengths[:, None]
    noisy[past] = torch.nan
    noisy.requires_grad_()
    features, _ = module(noisy, lengths)
    assert torch.equal(features, clean)
    torch.where(features.isfinite(), features, 0).sum().backward()
    assert noisy.grad[~past].abs().sum() > 0 and not noisy.grad[past].any()


def test_gradients_of_the_log_mel_match_finite_differences():
    module = LogMelSpectrogram(RATE, n_fft=64, win_length=48, hop_length=16, n_mels=8, log="natural", top_db=None)
    waveforms = torch.randn(2, 100, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w: module(w, torch.tensor([100, 57]))[0], (waveforms,))


def test_natural_log_is_the_db_values_times_ln10_over_10_and_none_is_the_mel_power():
    _, waveforms, lengths = padded_batch()
    db, frames = LogMelSpectrogram(RATE)(waveforms, lengths)
    natural, _ = LogMelSpectrogram(RATE, log="natural")(waveforms, lengths)
    torch.testing.assert_close(natural, db * (math.log(10) / 10), rtol=0, atol=1e-5)
    plain, _ = LogMelSpectrogram(RATE, log="natural", top_db=None, amin=1e-6)(waveforms, lengths)
    power, _ = LogMelSpectrogram(RATE, log=None)(waveforms, lengths)
    valid = (torch.arange(power.shape[1]) < frames[:, None])[:, :, None]
    torch.testing.assert_close(plain, torch.where(valid, power.clamp_min(1e-6).log(), 0.0), rtol=0, atol=1e-5)


def test_top_db_floors_each_utterance_under_its_own_loudest_frame():
    _, waveforms, lengths = padded_batch([4000, 3000, 2000])  # a chirp, noise and a 'vowel'
    rng = np.random.default_rng(1)
    waveforms[1] *= 1e-3  # 60 dB quieter: its floor moves with it
    waveforms[2, :2000] = torch.from_numpy(signal("gated", 2000, rng).astype(np.float32))  # digital silence inside
    features, frames = LogMelSpectrogram(RATE, top_db=50.0)(waveforms, lengths)
    for i in range(len(lengths)):
        own = features[i, : frames[i]]
        assert own.min() >= own.max() - 50.0 - 1e-4
    gated = features[2, : frames[2]]  # the silent frames sit on the floor
    assert torch.isclose(gated.min(), gated.max() - 50.0, rtol=0, atol=1e-4)
    assert (gated == gated.min()).all(1).sum() >= 5


def test_a_batch_of_one_and_lengths_none_match_the_padded_batch():
    utterances, waveforms, lengths = padded_batch()
    module = LogMelSpectrogram(RATE)
    features, frames = module(waveforms, lengths)
    alone, (count,) = module(torch.from_numpy(utterances[2])[None])
    assert count == frames[2]
    torch.testing.assert_close(alone[0], features[2, :count], rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_mfcc,lifter", [(13, 0.0), (20, 0.0), (40, 0.0), (13, 22.0)])
def test_mfcc_equals_librosa_on_each_utterance(n_mfcc, lifter, dtype):
    """Measured: 3e-6 in float64 (librosa's mel filters are float32); in float32 4e-3 where |c| reaches 500."""
    utterances, waveforms, lengths = padded_batch(dtype=dtype)
    features, frames = LogMelSpectrogram(RATE)(waveforms, lengths)
    coefficients = mfcc(features, n_mfcc, lifter=lifter)
    assert coefficients.shape == (*features.shape[:2], n_mfcc) and coefficients.dtype == features.dtype
    for i, y in enumerate(utterances):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # n_fft longer than the signal
            expected = librosa.feature.mfcc(y=y, sr=RATE, n_mfcc=n_mfcc, lifter=lifter, **LIBROSA_DEFAULTS).T
        tolerance = 1e-5 if dtype == np.float64 else 2e-5 * np.abs(expected).max()
        np.testing.assert_allclose(coefficients[i, : frames[i]].numpy(), expected, rtol=0, atol=tolerance)
        assert not coefficients[i, frames[i] :].any()


def test_mfcc_of_float64_log_mel_is_scipys_orthonormal_dct_exactly():
    import scipy.fft

    log_mel = torch.randn(3, 7, 40, dtype=torch.float64) * 20
    expected = scipy.fft.dct(log_mel.numpy(), type=2, norm="ortho", axis=-1)[..., :13]
    np.testing.assert_allclose(mfcc(log_mel).numpy(), expected, rtol=0, atol=1e-12)
    basis = dct_matrix(40, 40, dtype=torch.float64)
    torch.testing.assert_close(basis @ basis.T, torch.eye(40, dtype=torch.float64), rtol=0, atol=1e-13)


FILTERBANKS = [
    dict(sample_rate=8000, n_fft=256, n_mels=40),
    dict(sample_rate=16000, n_fft=512, n_mels=80, fmin=20.0, fmax=7600.0, htk=True, norm=None),
    dict(sample_rate=22050, n_fft=2048, n_mels=128, norm=2.0),
    dict(sample_rate=8000, n_fft=255, n_mels=30, fmin=100.0, fmax=3000.0, norm=math.inf),
    dict(sample_rate=8000, n_fft=400, n_mels=64, htk=True, norm=1.0),
    dict(sample_rate=44100, n_fft=1024, n_mels=96, fmin=1000.0, fmax=1100.0 * 10),
]


@pytest.mark.parametrize("arguments", FILTERBANKS)
def test_mel_filterbank_equals_librosa_filters_mel(arguments):
    ours = mel_filterbank(**(arguments | dict(dtype=torch.float64)))
    theirs = librosa.filters.mel(
        **{("sr" if k == "sample_rate" else k): v for k, v in arguments.items()}, dtype=np.float64
    )
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-12, atol=1e-12 * np.abs(theirs).max())
    assert mel_filterbank(**arguments).dtype == torch.float32


def test_too_many_mels_for_the_fft_warn_as_librosa_does():
    with pytest.warns(UserWarning, match="some have no FFT bin") as ours:
        ours_filters = mel_filterbank(8000, 256, 256)
    with pytest.warns(UserWarning, match="Empty filters detected") as theirs:
        librosa.filters.mel(sr=8000, n_fft=256, n_mels=256)
    assert len(ours) == 1 and len(theirs) >= 1
    assert (ours_filters.sum(1) == 0).any()  # the warning is about filters that really are empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (mel_filterbank(8000, 256, 40).sum(1) > 0).all()  # the default has a bin under every filter


def test_normalise_per_utterance_uses_each_utterances_own_frames_only():
    features = torch.randn(3, 9, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 5 + 3
    lengths = torch.tensor([9, 4, 1])
    features[1, 4:] = torch.nan  # padding is never read
    out = normalise_per_utterance(features, lengths)
    for i, n in enumerate(lengths.tolist()):
        own = features[i, :n]
        expected = (own - own.mean(0)) / torch.sqrt(own.var(0, unbiased=False) + 1e-5)
        torch.testing.assert_close(out[i, :n], expected, rtol=0, atol=1e-12)
        assert not out[i, n:].any()
    torch.testing.assert_close(out[0].mean(0), torch.zeros(4, dtype=torch.float64), rtol=0, atol=1e-12)
    variance = features[0].var(0, unbiased=False)  # eps keeps the deviation just under 1: sqrt(var / (var + eps))
    torch.testing.assert_close(out[0].std(0, unbiased=False), torch.sqrt(variance / (variance + 1e-5)), rtol=0,
                               atol=1e-12)  # fmt: skip
    assert not out[2].any()  # one frame: all its deviations are 0


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda m: m(torch.zeros(4)), r"waveforms must be a float tensor \(B, S\)"),
        (lambda m: m(torch.zeros(2, 4, dtype=torch.long)), r"waveforms must be a float tensor \(B, S\)"),
        (lambda m: m(torch.zeros(2, 400), torch.tensor([400.0, 3.0])), "lengths must be 2 ints"),
        (lambda m: m(torch.zeros(2, 400), torch.tensor([400])), "lengths must be 2 ints"),
        (lambda m: m(torch.zeros(2, 400), torch.tensor([401, 3])), r"lengths must be in \[1, 400\]"),
        (lambda m: m(torch.zeros(2, 400), torch.tensor([0, 3])), r"lengths must be in \[1, 400\]"),
    ],
)
def test_bad_batches_are_named(call, message):
    with pytest.raises(SeqlabError, match=message):
        call(LogMelSpectrogram(RATE))


def test_without_center_an_utterance_needs_a_whole_window():
    with pytest.raises(SeqlabError, match=r"lengths must be in \[256, 400\]"):
        LogMelSpectrogram(RATE, center=False)(torch.zeros(2, 400), torch.tensor([400, 255]))


@pytest.mark.parametrize(
    "settings,message",
    [
        (dict(win_length=300), "win_length <= n_fft"),
        (dict(hop_length=0), "hop_length > 0"),
        (dict(window="kaiser"), "window must be one of 'hann', 'hamming'"),
        (dict(pad_mode="edge"), "pad_mode must be one of 'constant', 'reflect'"),
        (dict(log="log2"), "log must be one of 'db', 'natural', None"),
        (dict(ref="min"), 'ref must be a positive number or "max"'),
        (dict(amin=0.0), "amin > 0"),
        (dict(fmin=4000.0), "fmin < fmax"),
        (dict(norm="htk"), 'norm must be "slaney", a positive number or None'),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(SeqlabError, match=message):
        LogMelSpectrogram(RATE, **settings)


def test_other_feature_functions_name_bad_input():
    with pytest.raises(SeqlabError, match=r"n_mfcc must be in \[1, n_mels=40\], got 41"):
        mfcc(torch.zeros(1, 2, 40), 41)
    with pytest.raises(SeqlabError, match=r"lengths must be in \[1, T=2\]"):
        normalise_per_utterance(torch.zeros(1, 2, 3), torch.tensor([3]))
    with pytest.raises(SeqlabError, match=r"need features \(B, T, F\) and lengths \(B,\)"):
        normalise_per_utterance(torch.zeros(2, 3), torch.tensor([3]))


def test_settings_are_not_saved_in_the_state_dict_and_the_module_moves_with_to():
    module = LogMelSpectrogram(RATE)
    assert module.state_dict() == {}
    assert "n_mels=40" in repr(module)
    assert module.to(torch.float64).mel_weights.dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_features_on_cuda_equal_those_on_the_cpu():
    _, waveforms, lengths = padded_batch()
    module = LogMelSpectrogram(RATE)
    cpu, frames = module(waveforms, lengths)
    gpu, gpu_frames = module.to("cuda")(waveforms.cuda(), lengths)
    assert torch.equal(gpu_frames, frames) and gpu_frames.device == lengths.device
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=1e-3)
