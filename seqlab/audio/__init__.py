"""Audio: reading and writing WAV files, and the features a recurrent acoustic model reads.

Modules:

    wav           reading (mono down-mix, resampling, clear errors) and atomic writing of WAV files
    resample      band-limited resampling by a Kaiser-windowed sinc, polyphase
    mel           the mel scale and triangular mel filterbanks, equal to librosa's
    features      log-mel spectrogram and MFCC in torch, batched, equal to librosa's
    spec_augment  SpecAugment's time and frequency masks
    vtlp          vocal tract length perturbation: the filterbank warped per training utterance
    mixing        recordings laid out with gaps and gains, and coloured background noise at a chosen SNR
"""
