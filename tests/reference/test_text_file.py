"""Reading the training text: every bad file is a SeqlabError that names file and problem."""

import pytest

from seqlab.errors import SeqlabError
from seqlab.reference import read_text_file


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        (b"", "file is empty"),
        (b"\xff", r"not valid UTF-8 at byte offset 0 \(line 1, byte 1 of the line\)"),
        (b"ok\nfine\nab\xc3(", r"byte offset 10 \(line 3, byte 3 of the line\)"),
        (b"caf\xc3", r"byte offset 3 \(line 1, byte 4"),  # truncated multi-byte character
    ],
    ids=["missing", "empty", "first-byte", "third-line", "truncated"],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(SeqlabError, match=message) as raised:
        read_text_file(path)

    assert str(raised.value).startswith(str(path))


def test_a_directory_is_not_a_text_file(tmp_path):
    with pytest.raises(SeqlabError, match="is a directory"):
        read_text_file(tmp_path)


def test_utf8_text_is_returned_as_is(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("héllo\nwörld ✓\n", encoding="utf-8")

    assert read_text_file(str(path)) == "héllo\nwörld ✓\n"
