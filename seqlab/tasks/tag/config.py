"""The data settings of a tagging run: which files, which schemes, which words (torch-free, for the flags)."""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

SCHEMES = ("IOB1", "BIO", "BIOES")  # seqlab.data.tag_schemes.SCHEMES, without importing the data layer
# the corpora of ../shared/data: name -> (training file, held-out file, the files' scheme)
CORPORA = {
    "conll2003": ("eng.train", "eng.testa", "IOB1"),
    "wnut17": ("wnut17train.conll", "emerging.dev.conll", "BIO"),
}


@dataclass
class DataConfig:
    """Which tagged sentences, how their words are read, and how they are batched."""

    corpus: str = "conll2003"  # a folder (or its name under $SEQLAB_DATA or the shared data), e.g. conll2003
    train_file: str | None = None  # the training file in the folder; None: the corpus's (CORPORA)
    valid_file: str | None = None  # the held-out file scored at each evaluation; None: the corpus's
    file_scheme: str | None = None  # the files' tagging scheme (IOB1, BIO, BIOES); None: the corpus's
    scheme: str = "BIOES"  # the scheme the model learns to write; scores are of the files' scheme
    min_count: int = 1  # training words seen fewer times become <unk>
    singleton_unk: float = 0.0  # chance that a training word seen once is read as <unk>, drawn at each batch
    lowercase: bool = False  # words are looked up lower-cased (characters keep their case)
    zero_digits: bool = True  # words are looked up with every digit replaced by 0 (Lample et al.'s tagger)
    vectors: str | None = None  # a word2vec or GloVe file whose vectors start the word embeddings
    transfer_from: str | None = None  # a finished tagging run whose weights start this one (e.g. CoNLL's)
    transfer_tags: str | None = None  # "TYPE=SOURCE_TYPE,...": these types' output starts from transfer_from's
    batch_size: int = 32  # sentences per batch, at most
    max_word_length: int = 40  # characters kept of a word (its first ones) for the character features

    def __post_init__(self) -> None:
        for name in ("file_scheme", "scheme"):
            value = getattr(self, name)
            if value is not None and value not in SCHEMES:
                raise SeqlabError(f"{name} must be one of {list(SCHEMES)}, got {value!r}")
        if not 0.0 <= self.singleton_unk <= 1.0:
            raise SeqlabError(f"singleton_unk must be a probability in [0, 1], got {self.singleton_unk}")
        for name in ("min_count", "batch_size", "max_word_length"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.transfer_tags is not None:
            if self.transfer_from is None:
                raise SeqlabError("transfer_tags maps the types of a source tagger: give transfer_from too")
            tag_type_map(self.transfer_tags)

    def files(self) -> tuple[str, str, str]:
        """The training file, the held-out file and their scheme, the corpus's where not given."""
        train, valid, scheme = CORPORA.get(self.corpus.rstrip("/").rsplit("/", 1)[-1], (None, None, None))
        chosen = (self.train_file or train, self.valid_file or valid, self.file_scheme or scheme)
        if None in chosen:
            raise SeqlabError(f"corpus {self.corpus!r} is none of {', '.join(CORPORA)}: give train_file, "
                              "valid_file and file_scheme")  # fmt: skip
        return chosen


def tag_type_map(text: str) -> dict[str, str]:
    """``"corporation=ORG,group=ORG"`` → ``{"corporation": "ORG", "group": "ORG"}``: target type → source type.

    Raises:
        SeqlabError: a pair that is not ``TYPE=SOURCE_TYPE``, or a target type named twice.
    """
    types: dict[str, str] = {}
    for pair in text.split(","):
        target, equals, source = (part.strip() for part in pair.partition("="))
        if not (target and equals and source):
            raise SeqlabError(f"transfer_tags: {pair.strip()!r} is not TYPE=SOURCE_TYPE (e.g. corporation=ORG)")
        if target in types:
            raise SeqlabError(f"transfer_tags: type {target!r} is mapped twice")
        types[target] = source
    return types
