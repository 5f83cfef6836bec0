"""Property-based attacks on the manifest loader and validator: every document ends in success or
a located error, never a traceback, a hang or a write to state."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import config, desired, jinjabounds, jinjasafe, providers, yamlsafe
from reconciler.errors import InputError, ValidationFailed
from tests.conftest import PROJECT

FIELDS = [
    "id", "board", "boards", "section", "title", "description", "link", "alt_text", "image",
    "video", "cover", "cover_frame", "dominant_color", "publish_at", "account", "protect",
    "state", "pins", "defaults", "vars",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=120),
    st.sampled_from(
        [
            "media/pasta.jpg",
            "../media/pasta.jpg",
            "../../../etc/passwd",
            "/dev/zero",
            "https://127.0.0.1/x.jpg",
            "javascript:alert(1)",
            "{{ ''.__class__.__mro__ }}",
            "2026-12-01T14:00:00Z",
            "2026-12-01T14:00:00+02:00",
            "Recipes",
            "x" * 900,
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), children, max_size=8
        ),
    ),
    max_leaves=40,
)
snippets = st.sampled_from(
    [
        "a: &x 1\nb: *x\n",
        "!!python/object:os.system {}\n",
        "id: a\nid: b\n",
        "[" * 200,
        "? [1, 2]\n: x\n",
        "id: a\n---\nid: b\n",
        "\t\tid: a\n",
        "id: 'unterminated\n",
        "%YAML 1.1\n---\nid: a\n",
        "<<: {a: 1}\n",
        "yes: no\n",
        "id: a\npins: [{id: b}]\n",
        "\ufeffid: bom\n",
        "\x00\x01\x02",
    ]
)


@contextmanager
def no_hang(seconds: int = 20) -> Iterator[None]:
    """Fail instead of hanging CI if one document makes the loader loop."""

    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError("a single document took too long")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def content_repository() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copy(PROJECT / "pinops.yaml", root / "pinops.yaml")
        shutil.copytree(PROJECT / "pins", root / "pins")
        yield root


def load_all(root: Path, text: str | bytes) -> None:
    """Load the repository with `text` as one more manifest; only located errors may escape."""
    manifest = root / "pins" / "fuzz.yaml"
    manifest.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "replace"))
    with no_hang():
        try:
            desired.load(config.load(root), providers.capabilities)
        except ValidationFailed as exc:
            assert exc.problems
            assert all(p.location.file and p.message for p in exc.problems)
        except InputError as exc:
            assert exc.location is not None
    assert not (root / "pinops.state.json").exists()


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(document=documents)
def test_structured_documents(document: Any) -> None:
    with content_repository() as root:
        load_all(root, yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("{}[]:-,&*!|>'\"#%@` \n\tabc01")), max_size=300))
def test_yaml_shaped_noise(text: str) -> None:
    with content_repository() as root:
        load_all(root, text)


@FUZZ
@given(prefix=snippets, document=documents)
def test_adversarial_snippets(prefix: str, document: Any) -> None:
    with content_repository() as root:
        load_all(root, prefix + yaml.safe_dump(document))


@FUZZ
@given(data=st.binary(max_size=400))
def test_raw_bytes_through_the_hardened_loader(data: bytes) -> None:
    with no_hang():
        try:
            yamlsafe.load(data, "pins/fuzz.yaml")
        except InputError as exc:
            assert exc.location is not None and exc.location.file == "pins/fuzz.yaml"


template_tokens = st.sampled_from(
    [
        "{{", "}}", "{%", "%}", " for x in ", " range(", "100000", ")", " endfor ", " if ",
        " endif ", "vars", "pin", "row", ".title", ".__class__", "__mro__", "[0]", "|truncate",
        "|slug", "|join", "|replace('a', 'bb')", " * ", " ** ", " ~ ", "'x'", "9", "loop.index",
        "self", "cycler", "lipsum", "{#", "#}", "(", ")", ",", " set y = ", "x", "y", "'%*d'",
        " % ",
    ]
)  # fmt: skip


@FUZZ
@given(parts=st.lists(template_tokens, max_size=25))
def test_templates_end_in_text_or_a_refusal(parts: list[str]) -> None:
    source = "".join(parts)
    context = {
        "vars": jinjasafe.Namespace("vars", "variable", {"site": "https://example.com"}),
        "pin": jinjasafe.Namespace("pin", "field", {"title": "Pasta"}),
        "row": jinjasafe.Namespace("row", "column", {"sku": "A1"}),
    }
    with no_hang():
        try:
            text = jinjasafe.render(source, context, "title")
        except jinjasafe.TemplateFailure as exc:
            assert exc.message
        else:
            assert len(text) <= jinjabounds.LIMITS.size
