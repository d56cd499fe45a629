"""One file-name sanitiser and one file hash: each call site's form keeps the names it always wrote."""

from __future__ import annotations

import hashlib
from pathlib import Path

from readdsp.core.hashing import sha256_file
from readdsp.core.output_path import safe_file_stem
from readdsp.reaper_ext.render_items import slug


def test_part_labels_keep_unicode_letters_and_replace_each_other_character() -> None:
    assert safe_file_stem("Violin 1") == "Violin_1"
    assert safe_file_stem("a  b/c") == "a__b_c"
    assert safe_file_stem("Flöte") == "Flöte"
    assert safe_file_stem("..") == "__"


def test_the_runs_form_keeps_ascii_and_folds_runs() -> None:
    assert safe_file_stem("Bach: BWV 1007/Prélude", "", runs=True, strip="_", max_length=60, fallback="line") == (
        "Bach_BWV_1007_Pr_lude"
    )
    assert safe_file_stem("???", "", runs=True, strip="_", fallback="line") == "line"
    assert safe_file_stem("take 01.mid", "_.-", runs=True) == "take_01.mid"


def test_take_names_strip_dots_and_stop_at_60_characters() -> None:
    assert slug(".hidden take.") == "hidden_take"
    assert slug("x" * 100) == "x" * 60
    assert slug("...") == "item"


def test_sha256_file_is_the_plain_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    payload = bytes(range(256)) * 5000  # over one 1 MiB read block
    path.write_bytes(payload)
    assert sha256_file(path) == hashlib.sha256(payload).hexdigest()
