"""Reading and writing WAV files: values, down-mix, resampling on read, and one-line errors for bad files."""

import numpy as np
import pytest
import soundfile

from seqlab.audio.resample import resample
from seqlab.audio.wav import Recording, read_wav, write_wav
from seqlab.errors import SeqlabError

RATE = 8000


def tone(seconds=0.25, rate=RATE, hz=440.0, amplitude=0.5):
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def test_pcm_16_is_read_as_the_integers_over_32768(tmp_path):
    integers = np.array([0, 1, -1, 16384, -16384, 32767, -32768], dtype=np.int16)
    soundfile.write(tmp_path / "a.wav", integers, RATE, subtype="PCM_16")
    recording = read_wav(tmp_path / "a.wav")
    assert isinstance(recording, Recording)
    assert recording.samples.dtype == np.float32 and recording.samples.shape == (7,)
    np.testing.assert_array_equal(recording.samples, integers / np.float32(32768))
    assert recording.sample_rate == RATE and recording.path == tmp_path / "a.wav"
    assert recording.num_frames == 7 and recording.duration == 7 / RATE


def test_write_then_read_gives_the_samples_back_to_within_a_quantisation_step(tmp_path):
    samples = np.random.default_rng(0).uniform(-1, 1, 5000)
    write_wav(tmp_path / "out" / "a.wav", samples, RATE)  # the folder is made
    assert soundfile.info(tmp_path / "out" / "a.wav").subtype == "PCM_16"
    back = read_wav(tmp_path / "out" / "a.wav").samples
    np.testing.assert_allclose(back, samples, rtol=0, atol=1.5 / 32768)


def test_write_clips_to_plus_minus_one_without_wrapping(tmp_path):
    write_wav(tmp_path / "a.wav", np.array([2.0, 1.0, 0.25, -1.0, -7.0]), RATE)
    integers, _ = soundfile.read(tmp_path / "a.wav", dtype="int16")
    assert integers.tolist() == [32767, 32767, 8192, -32767, -32767]


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "a.wav"
    write_wav(path, tone(), RATE)
    before = path.read_bytes()
    with pytest.raises(SeqlabError, match="NaN or infinite"):
        write_wav(path, np.array([0.1, np.nan]), RATE)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]


@pytest.mark.parametrize(
    "samples,rate,message",
    [
        (np.zeros((2, 2, 2)), RATE, r"shape \(S,\) or \(S, C\)"),
        (np.array(["a", "b"]), RATE, r"shape \(S,\) or \(S, C\)"),
        (np.zeros(4), 0, "sample_rate must be a positive int"),
        (np.zeros(4), 8000.0, "sample_rate must be a positive int"),
        (np.array([0.0, np.inf]), RATE, "NaN or infinite"),
    ],
)
def test_write_refuses_bad_arguments_naming_the_file(tmp_path, samples, rate, message):
    with pytest.raises(SeqlabError, match=message) as error:
        write_wav(tmp_path / "a.wav", samples, rate)
    assert str(error.value).startswith(str(tmp_path / "a.wav"))
    assert not (tmp_path / "a.wav").exists()


def test_stereo_is_down_mixed_by_the_mean_or_kept(tmp_path):
    left, right = tone(hz=300.0), tone(hz=500.0, amplitude=0.25)
    write_wav(tmp_path / "s.wav", np.stack([left, right], 1), RATE)
    kept = read_wav(tmp_path / "s.wav", mono=False)
    assert kept.samples.shape == (len(left), 2)
    mixed = read_wav(tmp_path / "s.wav")
    assert mixed.samples.shape == (len(left),)
    np.testing.assert_allclose(mixed.samples, kept.samples.mean(1), rtol=0, atol=1e-7)
    np.testing.assert_allclose(mixed.samples, (left + right) / 2, rtol=0, atol=1.5 / 32768)


def test_mono_false_keeps_a_mono_file_two_dimensional(tmp_path):
    write_wav(tmp_path / "m.wav", tone(), RATE)
    assert read_wav(tmp_path / "m.wav", mono=False).samples.shape == (2000, 1)


def test_a_16_khz_file_is_resampled_on_read_to_the_rate_asked_for(tmp_path):
    samples = tone(seconds=0.5, rate=16000, hz=1000.0)
    write_wav(tmp_path / "w.wav", samples, 16000)
    as_written = read_wav(tmp_path / "w.wav")
    recording = read_wav(tmp_path / "w.wav", sample_rate=8000)
    assert recording.sample_rate == 8000 and recording.samples.dtype == np.float32
    assert recording.samples.shape == (4000,)
    np.testing.assert_allclose(recording.samples, resample(as_written.samples, 16000, 8000), rtol=0, atol=1e-7)
    assert read_wav(tmp_path / "w.wav", sample_rate=16000).samples.shape == (8000,)  # its own rate: untouched


def test_stereo_is_down_mixed_before_resampling(tmp_path):
    stereo = np.stack([tone(rate=16000, hz=700.0), tone(rate=16000, hz=900.0)], 1)
    write_wav(tmp_path / "s.wav", stereo, 16000)
    both = read_wav(tmp_path / "s.wav", sample_rate=8000, mono=False)
    assert both.samples.shape == (2000, 2)
    np.testing.assert_allclose(read_wav(tmp_path / "s.wav", sample_rate=8000).samples, both.samples.mean(1), atol=1e-6)


def test_other_formats_libsndfile_reads_are_read(tmp_path):
    soundfile.write(tmp_path / "a.flac", tone(), RATE, subtype="PCM_16")
    np.testing.assert_allclose(read_wav(tmp_path / "a.flac").samples, tone(), rtol=0, atol=1 / 32768)


def _wav_bytes(tmp_path, frames=1000):
    write_wav(tmp_path / "good.wav", tone(seconds=frames / RATE), RATE)
    return (tmp_path / "good.wav").read_bytes()


def _bad_files(tmp_path):
    """name -> (bytes or a builder, expected message)."""
    good = _wav_bytes(tmp_path)
    return {
        "text.wav": (b"this is not audio\n" * 10, r"not a readable audio file \(libsndfile: Format not recognised"),
        "header_only_half.wav": (good[:30], r"not a readable audio file \(libsndfile: .*data"),
        "first_bytes.wav": (good[:10], "not a readable audio file"),
        "empty_file.wav": (b"", "not a readable audio file"),
        "truncated_data.wav": (good[:60], "truncated: its header declares 2000 bytes of samples, the file holds 16"),
        "header_alone.wav": (good[:44], "truncated: its header declares 2000 bytes of samples, the file holds 0"),
    }


@pytest.mark.parametrize(
    "name",
    ["text.wav", "header_only_half.wav", "first_bytes.wav", "empty_file.wav", "truncated_data.wav", "header_alone.wav"],
)
def test_broken_files_get_one_line_that_names_the_file(tmp_path, name):
    content, message = _bad_files(tmp_path)[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SeqlabError, match=message) as error:
        read_wav(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    shown = error.value.__cause__ or (None if error.value.__suppress_context__ else error.value.__context__)
    assert shown is None  # no libsndfile traceback printed above ours


def test_a_zero_frame_file_written_by_soundfile_is_empty(tmp_path):
    soundfile.write(tmp_path / "z.wav", np.zeros(0), RATE, subtype="PCM_16")
    with pytest.raises(SeqlabError, match=r"z.wav: holds no audio \(0 frames\)"):
        read_wav(tmp_path / "z.wav")


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(SeqlabError, match=r"nothing.wav: no such file$"):
        read_wav(tmp_path / "nothing.wav")
    with pytest.raises(SeqlabError, match=r": not a file$"):
        read_wav(tmp_path)


def test_silence_is_an_error_unless_allowed(tmp_path):
    write_wav(tmp_path / "quiet.wav", np.zeros(800), RATE)
    with pytest.raises(SeqlabError, match=r"quiet.wav: is silent \(all 800 samples are zero\)"):
        read_wav(tmp_path / "quiet.wav")
    assert not read_wav(tmp_path / "quiet.wav", allow_silent=True).samples.any()
    write_wav(tmp_path / "one.wav", np.eye(1, 800, 400)[0] / 32767, RATE)  # a single quantum is not silence
    assert np.count_nonzero(read_wav(tmp_path / "one.wav").samples) == 1


def test_stereo_that_cancels_in_the_down_mix_is_silent(tmp_path):
    left = tone()
    write_wav(tmp_path / "s.wav", np.stack([left, -left], 1), RATE)
    with pytest.raises(SeqlabError, match=r"s.wav: is silent \(all 2000 samples are zero after the down-mix to mono\)"):
        read_wav(tmp_path / "s.wav")
    assert read_wav(tmp_path / "s.wav", mono=False).samples.any()


def test_a_rate_that_cannot_be_resampled_is_named_with_the_file(tmp_path):
    write_wav(tmp_path / "odd.wav", tone(rate=8001), 8001)
    with pytest.raises(SeqlabError, match=r"^.*odd.wav: resampling from 8001 Hz to 8000 Hz needs a filter table"):
        read_wav(tmp_path / "odd.wav", sample_rate=8000)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_in_a_float_file_are_named(tmp_path, bad):
    soundfile.write(tmp_path / "f.wav", np.array([0.1, bad, 0.2]), RATE, subtype="FLOAT")
    with pytest.raises(SeqlabError, match=r"f.wav: holds NaN or infinite samples"):
        read_wav(tmp_path / "f.wav")


def test_a_float_file_is_returned_as_stored(tmp_path):
    soundfile.write(tmp_path / "f.wav", np.array([0.5, -1.5, 2.0]), RATE, subtype="FLOAT")
    np.testing.assert_array_equal(read_wav(tmp_path / "f.wav").samples, np.float32([0.5, -1.5, 2.0]))


def test_the_channel_count_asked_for_is_checked_before_any_down_mix(tmp_path):
    write_wav(tmp_path / "s.wav", np.stack([tone(), tone()], 1), RATE)
    with pytest.raises(SeqlabError, match=r"s.wav: has 2 channels, expected 1"):
        read_wav(tmp_path / "s.wav", channels=1)
    assert read_wav(tmp_path / "s.wav", channels=2).samples.shape == (2000,)


@pytest.mark.parametrize("rate", [0, -8000, 8000.0, True])
def test_a_bad_sample_rate_argument_is_refused(tmp_path, rate):
    write_wav(tmp_path / "a.wav", tone(), RATE)
    with pytest.raises(SeqlabError, match="sample_rate must be a positive int"):
        read_wav(tmp_path / "a.wav", sample_rate=rate)
