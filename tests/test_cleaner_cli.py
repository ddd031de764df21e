"""`newsarchive clean`: captures of any layout and encoding restored, bad input refused with a clear error."""

from __future__ import annotations

import contextlib
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.cleaner import MAX_BODY_BYTES
from scraper.cleaner.cli import clean_main

SHORT_ITEM = "新華社北京8月26日電 國務院常務會議(yì)部署發(fā)展產(chǎn)業(yè)。\n"
BODY_FIRST = (
    "四大舉措推進大氣污染防治,生態環境部將加強區(qū)域聯防聯控。\n\n"
    "今年以來,全國氣溫同比整體偏高,不利于污染物擴散和清除。\n"
)


def run_clean(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper", "clean", str(path), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("capture", [SHORT_ITEM, BODY_FIRST])
def test_text_mode_prints_every_line_of_a_capture_in_another_layout(tmp_path: Path, capture: str) -> None:
    path = tmp_path / "capture.txt"
    path.write_text(capture, encoding="utf-8")
    result = run_clean(path, "--format", "text")
    assert result.returncode == 0, result.stderr
    lines = [line for line in capture.splitlines() if line.strip()]
    assert len(result.stdout.splitlines()) == len(lines)
    assert ("(" not in result.stdout and "發展產業" in result.stdout) or "區域" in result.stdout


def test_json_mode_gives_the_fields_it_finds_and_empty_ones_for_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "capture.txt"
    path.write_text(SHORT_ITEM, encoding="utf-8")
    result = run_clean(path, "--format", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["title"].startswith("新華社北京8月26日電")
    assert record["published_at"] is None and record["source"] is None and record["breadcrumb"] == []


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_a_text_file_in_any_common_encoding_is_read_as_such(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "capture.txt"
    path.write_bytes(BODY_FIRST.encode(encoding))
    result = run_clean(path, "--format", "text")
    assert result.returncode == 0, result.stderr
    assert "\ufffd" not in result.stdout
    assert "四大舉措推進大氣污染防治，生態環境部將加強區域聯防聯控。" in result.stdout


def test_an_english_utf16_file_without_a_bom_is_not_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "capture.txt"
    path.write_bytes("Press release\nShanghai, 26 August\n".encode("utf-16-le"))
    result = run_clean(path, "--format", "text")
    assert result.stdout == "Press release\nShanghai, 26 August\n"


def test_a_raw_gbk_capture_is_repaired_from_its_bytes(tmp_path: Path) -> None:
    # 。” as A1 A3 A1 B1 with A3 A1 swapped for `!`: only the raw bytes still hold the pair.
    path = tmp_path / "capture.txt"
    path.write_bytes("細胞治療".encode("gbk") + bytes.fromhex("a121b1") + "李翔說".encode("gbk"))
    result = run_clean(path, "--format", "text")
    assert result.stdout.strip() == "細胞治療。”李翔說"


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * 1024**3])
def test_input_over_the_limit_is_refused_without_reading_it_whole(tmp_path: Path, size: int) -> None:
    path = tmp_path / "huge.html"
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: no disk used
    # With 1.5 GiB of address space, reading 3 GiB whole would end in a MemoryError.
    limit = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({3 * 1024**3 // 2}, {3 * 1024**3 // 2}))"
    code = f"{limit}; import sys; from scraper.cli import main; sys.exit(main(['clean', {str(path)!r}]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "exceeds the cleaner's limit of 10,485,760 bytes" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("data", [b"", b" \n\t\n"])
def test_empty_input_is_refused_as_nothing_to_clean(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    result = run_clean(path, "--format", "text")
    assert (result.returncode, result.stdout) == (1, "")
    assert "the input is empty: nothing to clean" in result.stderr


def test_random_bytes_are_refused_as_not_text(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(range(128, 256)) * 200)
    result = run_clean(path)
    assert result.returncode == 1
    assert "not a page of Chinese text" in result.stderr and "Traceback" not in result.stderr


def test_two_kilobytes_of_random_bytes_are_refused_too(tmp_path: Path) -> None:
    # A small binary file given by mistake must not come out as a page of garbage with exit 0.
    path = tmp_path / "small.bin"
    path.write_bytes(random.Random(0).randbytes(2048))
    result = run_clean(path, "--format", "text")
    assert (result.returncode, result.stdout) == (1, "")
    assert "not a page of Chinese text" in result.stderr


# ---- the fuzz profile reaches the command: any bytes, any encoding, any size -------------

ENCODINGS = ["utf-8", "gbk", "gb18030", "utf-16", "big5", "latin-1"]


@settings(max_examples=max(settings().max_examples // 10, 20), deadline=None)
@given(
    text=st.text(max_size=400),
    noise=st.binary(max_size=200),
    encoding=st.sampled_from(ENCODINGS),
    html=st.booleans(),
    output=st.sampled_from(["json", "text"]),
)
def test_clean_on_any_input_exits_0_or_1_with_a_message_never_a_traceback(
    tmp_path_factory: pytest.TempPathFactory,
    text: str,
    noise: bytes,
    encoding: str,
    html: bool,
    output: str,
) -> None:
    body = text.encode(encoding, "replace")
    data = (b"<html><body><p>" + body + b"</p></body></html>" if html else body) + noise
    path = tmp_path_factory.mktemp("fuzz") / "page"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = clean_main([str(path), "--format", output])
    assert code in (0, 1)
    if code == 1:  # refused: one line naming the file and why, nothing on stdout
        assert out.getvalue() == "" and err.getvalue().startswith(f"newsarchive clean: {path}: ")
    elif output == "json":
        assert isinstance(json.loads(out.getvalue()), dict)
