"""The Kaiser-windowed sinc resampler against the exact band-limited signal, scipy and librosa.

Signals are sums of sines, so the exact resampled signal is known: the same sines at the new times.
Samples within 200 output samples of either end are left out (there the filter, N / (2 f_c) input
samples wide, runs off the signal, which is taken to be zero outside). Measured worst errors, in
float64 below 0.8 of the lower Nyquist frequency: 3.6e-8 on single sines, 8e-9 on sums; leakage
of a sine above the new Nyquist frequency (downsampling): 6e-8 at 1.06 times it.
"""

import librosa
import numpy as np
import pytest
import scipy.signal

from seqlab.audio.resample import output_length, resample, sinc_filter_bank
from seqlab.errors import SeqlabError

RATE_PAIRS = [(16000, 8000), (8000, 16000), (44100, 8000), (22050, 16000), (48000, 44100), (11025, 8000)]
EDGE = 200  # output samples left out at each end


def sines(frequencies, phases, times):
    """Σ sin(2π f t + φ), scaled to a peak of about 0.5. Shape: (k,), (k,), (S,) -> (S,)."""
    return 0.5 / len(frequencies) * np.sin(2 * np.pi * frequencies[:, None] * times + phases[:, None]).sum(0)


@pytest.mark.parametrize("orig_sr,target_sr", RATE_PAIRS)
def test_sines_below_the_cutoff_come_out_as_the_same_sines_at_the_new_times(orig_sr, target_sr):
    nyquist = min(orig_sr, target_sr) / 2
    times = np.arange(orig_sr // 4) / orig_sr  # 0.25 s
    for fraction in (0.02, 0.3, 0.6, 0.8):
        f, phase = np.array([fraction * nyquist]), np.array([0.3])
        out = resample(sines(f, phase, times), orig_sr, target_sr)
        exact = sines(f, phase, np.arange(len(out)) / target_sr)
        np.testing.assert_allclose(out[EDGE:-EDGE], exact[EDGE:-EDGE], rtol=0, atol=1e-7, err_msg=f"{fraction}")


@pytest.mark.parametrize("orig_sr,target_sr", [(16000, 8000), (44100, 8000), (22050, 16000), (48000, 44100)])
def test_what_lies_above_the_new_nyquist_frequency_is_removed(orig_sr, target_sr):
    times = np.arange(orig_sr // 4) / orig_sr
    for fraction in (1.06, 1.08):
        f = fraction * target_sr / 2
        assert f < orig_sr / 2
        out = resample(np.sin(2 * np.pi * f * times), orig_sr, target_sr)
        assert np.abs(out[EDGE:-EDGE]).max() < 1e-7, fraction


def band_limited_noise(orig_sr, target_sr, seed=0):
    """40 sines at random frequencies below 0.8 of the lower Nyquist frequency: the signal and the exact output."""
    rng = np.random.default_rng(seed)
    frequencies = rng.uniform(0, 0.8 * min(orig_sr, target_sr) / 2, 40)
    phases = rng.uniform(0, 2 * np.pi, 40)
    signal = sines(frequencies, phases, np.arange(orig_sr // 4) / orig_sr)
    exact = sines(frequencies, phases, np.arange(output_length(len(signal), orig_sr, target_sr)) / target_sr)
    return signal, exact


@pytest.mark.parametrize("orig_sr,target_sr", RATE_PAIRS)
def test_band_limited_noise_agrees_with_the_exact_signal_scipy_and_librosa(orig_sr, target_sr):
    signal, exact = band_limited_noise(orig_sr, target_sr)
    ours = resample(signal, orig_sr, target_sr)
    scipy_out = scipy.signal.resample_poly(signal, target_sr, orig_sr)  # Kaiser β = 5, 10 zero crossings a side
    soxr_out = librosa.resample(signal, orig_sr=orig_sr, target_sr=target_sr, res_type="soxr_hq")
    inner = slice(EDGE, -EDGE)
    assert len(ours) == len(scipy_out) == len(soxr_out) == len(exact)
    np.testing.assert_allclose(ours[inner], exact[inner], rtol=0, atol=3e-8)
    np.testing.assert_allclose(ours[inner], scipy_out[inner], rtol=0, atol=1e-3)  # scipy's own error: up to 6e-4
    np.testing.assert_allclose(ours[inner], soxr_out[inner], rtol=0, atol=1e-4)  # soxr_hq's own error: up to 5e-5


@pytest.mark.parametrize("length", [1, 2, 3, 7, 100, 101, 4001])
@pytest.mark.parametrize("orig_sr,target_sr", RATE_PAIRS)
def test_output_length_is_the_ceiling_as_in_scipy_and_librosa(length, orig_sr, target_sr):
    out = resample(np.ones(length), orig_sr, target_sr)
    assert (
        len(out)
        == output_length(length, orig_sr, target_sr)
        == len(scipy.signal.resample_poly(np.ones(length), target_sr, orig_sr))
    )
    assert len(out) == len(librosa.resample(np.ones(length), orig_sr=orig_sr, target_sr=target_sr))


def test_channels_are_resampled_alike_and_float32_stays_float32():
    signal, _ = band_limited_noise(16000, 8000)
    other, _ = band_limited_noise(16000, 8000, seed=1)
    stereo = np.stack([signal, other], 1).astype(np.float32)  # (S, 2)
    out = resample(stereo, 16000, 8000)
    assert out.dtype == np.float32 and out.shape == (len(signal) // 2, 2)
    np.testing.assert_array_equal(out[:, 1], resample(stereo[:, 1], 16000, 8000))


def test_equal_rates_return_the_samples_themselves():
    samples = np.arange(5.0)
    assert resample(samples, 8000, 8000) is samples


def test_the_filter_table_is_the_windowed_sinc_of_the_module_docstring():
    filters, width, up, down = sinc_filter_bank(16000, 8000)
    assert (up, down) == (1, 2)
    cutoff = 0.9475937167399596 / 2
    assert width == int(np.ceil(64 / cutoff))
    offsets = np.arange(-width, width + down)
    centre = width  # Δ = 0: the tap on the output sample's own time
    assert filters[0, centre] == pytest.approx(cutoff)
    assert filters.sum() == pytest.approx(1.0, abs=1e-6)  # unit gain at 0 Hz, per phase (a single phase here)
    np.testing.assert_allclose(filters[0], filters[0][::-1][np.r_[1 : len(offsets), 0]], rtol=0, atol=1e-15)


def test_every_phase_has_unit_gain_at_zero_hertz():
    filters, _, up, down = sinc_filter_bank(8000, 44100)
    assert (up, down) == (441, 80)
    np.testing.assert_allclose(filters.sum(1), 1.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("rate", [0, -1, 8000.0, True])
def test_bad_rates_are_refused(rate):
    with pytest.raises(SeqlabError, match="must be a positive int"):
        resample(np.zeros(10), rate, 8000)
    with pytest.raises(SeqlabError, match="must be a positive int"):
        resample(np.zeros(10), 8000, rate)


def test_rates_with_no_common_ratio_are_refused_before_building_a_huge_table():
    with pytest.raises(
        SeqlabError, match=r"from 8001 Hz to 8000 Hz needs a filter table of .* ratio reduces only to 8000/8001"
    ):
        resample(np.zeros(10), 8001, 8000)


def test_three_dimensional_samples_are_refused():
    with pytest.raises(SeqlabError, match=r"\(S,\) or \(S, C\)"):
        resample(np.zeros((2, 2, 2)), 16000, 8000)
