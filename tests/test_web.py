"""The Flask app over a fake PoetClient: every endpoint, every error path, the SSE format, escaping; and over
a real model server on the tiny model, where the engine refuses values out of range."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.errors import InvalidRequest, PoetClientError, ServerBusy, ServerUnavailable
from client.types import GenerateResult, PoemOut, Progress
from model.engine.types import FORM_NAMES, MODES
from server.settings import WebSettings
from server.web import create_app
from server.wsgi import parse_args

ROOT = Path(__file__).resolve().parent.parent
POEM = PoemOut(
    text="春风拂槛露华浓，夏木阴阴正可人。秋水长天同一色，冬来万里雪纷纷。",
    lines=["春风拂槛露华浓", "夏木阴阴正可人", "秋水长天同一色", "冬来万里雪纷纷"],
    score=-2.5,
    rhyme_group="上平十一真",
    tones=["平平仄仄仄平平", "仄仄平平仄仄平", "平仄平平平仄仄", "平平仄仄仄平平"],
    rhyme_positions=[0, 1, 3],
    constraints={"well_formed": True, "rhyme": True, "meter": True},
)
RESULT = GenerateResult(form="七绝", mode="acrostic", poems=[POEM], keywords=[], elapsed_ms=12.5)


class FakeModel:
    """What the fake clients answer: a canned poem, or `error` raised at `fail_at` (call, or after N stream items)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.made: list[dict] = []
        self.error: Exception | None = None
        self.fail_after: int | None = None  # stream items yielded before `error` is raised
        self.serving = True
        self.open = 0  # streams started and not yet closed

    def factory(self, **kwargs) -> FakeClient:
        self.made.append(kwargs)
        return FakeClient(self)


class FakeClient:
    """Quacks like client.PoetClient, backed by a FakeModel."""

    def __init__(self, model: FakeModel):
        self.model = model

    def _maybe_fail(self, name: str, fields: dict) -> None:
        self.model.calls.append((name, fields))
        if self.model.error and self.model.fail_after is None:
            raise self.model.error

    def generate(self, **fields) -> GenerateResult:
        self._maybe_fail("generate", fields)
        return RESULT

    def stream(self, **fields) -> Iterator[Progress | GenerateResult]:
        self._maybe_fail("stream", fields)
        self.model.open += 1
        try:
            for i, end in enumerate((1, 2, 7, 8)):
                if self.model.fail_after == i:
                    raise self.model.error
                yield Progress(0, POEM.text[:end])
            yield RESULT
        finally:
            self.model.open -= 1

    def health(self) -> bool:
        self._maybe_fail("health", {})
        return self.model.serving

    def info(self) -> dict:
        self._maybe_fail("info", {})
        return {"model_name": "fake", "forms": ["五绝", "七绝", "五律", "七律"], "max_candidates": 8}


@pytest.fixture
def model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def client(model: FakeModel):
    app = create_app({"TESTING": True, "CLIENT_FACTORY": model.factory, "POET_SERVER": "fake:1", "POET_TIMEOUT": 7.0})
    return app.test_client()


def events(body: str) -> list[tuple[str, dict]]:
    """Parse a text/event-stream body into (event, data) pairs."""
    parsed = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        parsed.append((fields["event"], json.loads(fields["data"])))
    return parsed


def assert_bilingual(response, status: int) -> dict:
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["zh"] and error["en"] and error["message"] == f"{error['zh']} / {error['en']}"
    return error


def test_page_has_the_controls_and_security_headers(client) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for marker in (
        'id="modes"',
        'id="forms"',
        'id="form-auto"',
        'id="text"',
        'id="generate"',
        'id="message"',
        "<details",
        'id="history"',
        'id="retry"',
    ):
        assert marker in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "http://" not in html and "https://" not in html  # nothing from another host: works offline


def test_the_page_leaves_the_query_to_its_script(client) -> None:
    html = client.get("/", query_string={"mode": "acrostic", "text": "<script>alert(1)</script>"}).get_data(
        as_text=True
    )
    assert "alert(1)" not in html  # nothing from the query is written into the page


def test_the_page_holds_no_mode_form_or_limit_of_its_own(client) -> None:
    """The script builds them from /api/info: the engine's contract is their one home."""
    html = client.get("/").get_data(as_text=True)
    assert not [word for word in (*MODES, *FORM_NAMES) if word in html]
    composer = html[html.index('<form id="compose"') : html.index("</form>")]
    limit_or_default = re.search(r'\b(maxlength|min|max)="|\bvalue="[^"]|\bchecked\b|<option', composer)
    assert not limit_or_default, composer[limit_or_default.start() - 80 : limit_or_default.end() + 40]


@pytest.mark.parametrize(
    "path",
    [
        "/static/app.js",
        "/static/js/api.js",
        "/static/js/poem.js",
        "/static/js/validate.js",
        "/static/js/history.js",
        "/static/style.css",
        "/static/favicon.svg",
    ],
)
def test_static_files_are_served(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    response.close()


def test_scripts_never_write_html_from_data() -> None:
    for script in (ROOT / "static").rglob("*.js"):
        source = script.read_text(encoding="utf-8")
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "document.write" not in source, (
            script
        )


def test_generate_passes_typed_fields_to_the_client(client, model: FakeModel) -> None:
    body = {
        "mode": "acrostic",
        "form": "七绝",
        "text": "春夏秋冬",
        "n": 2,
        "seed": 7,
        "temperature": 1,
        "rhyme": True,
        "meter": False,
    }
    response = client.post("/api/generate", json=body)
    assert response.status_code == 200
    result = response.get_json()
    assert result["form"] == "七绝" and result["poems"][0]["lines"][0] == "春风拂槛露华浓"
    assert set(result["poems"][0]) == {
        "text",
        "lines",
        "score",
        "rhyme_group",
        "tones",
        "rhyme_positions",
        "constraints",
        "faults",
    }
    assert model.calls == [("generate", {**body, "temperature": 1.0})]
    assert model.made == [{"address": "fake:1", "timeout": 7.0, "retries": 2}]


def test_requests_share_the_apps_client(client, model: FakeModel) -> None:
    """One channel for every request: connections and health watches to the replicas are made once."""
    for _ in range(3):
        assert client.post("/api/generate", json={}).status_code == 200
        assert client.post("/api/stream", json={}).status_code == 200
    assert [made["timeout"] for made in model.made] == [7.0]


def test_generate_leaves_fields_left_out_to_the_engine(client, model: FakeModel) -> None:
    assert client.post("/api/generate", json={}).status_code == 200
    assert model.calls == [("generate", {})]


def test_generate_takes_every_field_the_readme_lists(client, model: FakeModel) -> None:
    body = {
        "mode": "random",
        "form": "",
        "text": "",
        "n": 1,
        "seed": None,
        "temperature": 0.8,
        "top_k": 40,
        "top_p": 0.95,
        "repetition_penalty": 1.1,
        "rhyme": True,
        "rhyme_first_line": True,
        "meter": True,
        "strict_meter": False,
        "no_repeat": True,
        "no_copy": False,
    }
    assert client.post("/api/generate", json=body).status_code == 200
    assert model.calls == [("generate", body)]


SHAPE_ERRORS = [
    ("not json", "{"),
    ("an array", [1, 2]),
    ("unknown field", {"mode": "random", "colour": "red"}),
    ("mode null", {"mode": None}),
    ("mode a number", {"mode": 1}),
    ("form a list", {"form": ["七绝"]}),
    ("text not a string", {"text": 5}),
    ("n a string", {"n": "3"}),
    ("n a bool", {"n": True}),
    ("n fractional", {"n": 1.5}),
    ("seed a string", {"seed": "7"}),
    ("temperature a string", {"temperature": "hot"}),
    ("temperature NaN", '{"temperature": NaN}'),  # Python's json reads NaN and Infinity
    ("top_p Infinity", '{"top_p": -Infinity}'),
    ("rhyme not a bool", {"rhyme": 1}),
    ("meter a string", {"meter": "yes"}),
    ("no_copy a string", {"no_copy": "no"}),
    ("text a lone surrogate", {"mode": "continue", "text": "春\ud800"}),  # json.dumps writes it as \ud800
]
# Values of the right type but out of range or not among the choices: the engine's to refuse.
RANGE_ERRORS = [
    ("mode", {"mode": "limerick"}, "模式", "mode"),
    ("form", {"form": "十四行诗"}, "诗体", "form"),
    ("text too long", {"mode": "continue", "text": "秋" * 65}, "文字过长", "text"),
    ("theme too long", {"mode": "theme", "text": "秋" * 51}, "主题过长", "theme"),
    ("n zero", {"n": 0}, "候选数", "n"),
    ("n nine", {"n": 9}, "候选数", "n"),
    ("seed negative", {"seed": -1}, "seed", "seed"),  # uint64 on the wire: the client refuses it
    ("temperature zero", {"temperature": 0}, "温度", "temperature"),
    ("temperature too hot", {"temperature": 2.5}, "温度", "temperature"),
    ("top_k too big", {"top_k": 1001}, "top_k", "top_k"),
    ("top_p above one", {"top_p": 1.5}, "top_p", "top_p"),
    ("repetition_penalty below one", {"repetition_penalty": 0.5}, "重复惩罚", "repetition_penalty"),
    ("rhyme_tone", {"rhyme_tone": "中"}, "韵脚声调", "rhyme_tone"),
]


@pytest.mark.parametrize("path", ["/api/generate", "/api/stream"])
@pytest.mark.parametrize(("case", "body"), SHAPE_ERRORS, ids=[case for case, _ in SHAPE_ERRORS])
def test_a_body_of_the_wrong_shape_is_400_before_the_model_server(
    client, model: FakeModel, path: str, case: str, body
) -> None:
    data = body if isinstance(body, str) else json.dumps(body)
    response = client.post(path, data=data, content_type="application/json")
    assert_bilingual(response, 400)
    assert model.calls == [] and model.made == []  # refused before the model server is asked


@pytest.mark.parametrize(("case", "body"), [(case, body) for case, body, *_ in RANGE_ERRORS])
def test_ranges_are_left_to_the_model_server(client, model: FakeModel, case: str, body: dict) -> None:
    assert client.post("/api/generate", json=body).status_code == 200
    assert model.calls == [("generate", body)]


def test_a_type_error_names_the_field_and_the_type(client) -> None:
    error = assert_bilingual(client.post("/api/generate", json={"rhyme": 1}), 400)
    assert error["zh"] == "rhyme 须为 true 或 false" and error["en"] == "rhyme must be true or false"


def test_text_that_is_not_unicode_names_the_field(client) -> None:
    response = client.post("/api/generate", data='{"text": "\\ud800"}', content_type="application/json")
    assert assert_bilingual(response, 400)["en"] == "text is not valid Unicode text"


def test_server_side_validation_keeps_its_message(client, model: FakeModel) -> None:
    model.error = InvalidRequest("藏头字只能是汉字", "acrostic characters must be Chinese characters")
    error = assert_bilingual(client.post("/api/generate", json={"mode": "acrostic", "text": "abc"}), 400)
    assert error["zh"] == "藏头字只能是汉字" and error["en"] == "acrostic characters must be Chinese characters"


def test_zh_and_en_pass_through_whole_even_with_a_slash_inside(client, model: FakeModel) -> None:
    model.error = InvalidRequest("韵脚声调须为 平 / 仄", "rhyme_tone must be 平 / 仄")  # never split on " / "
    error = assert_bilingual(client.post("/api/generate", json={}), 400)
    assert (error["zh"], error["en"]) == ("韵脚声调须为 平 / 仄", "rhyme_tone must be 平 / 仄")


@pytest.mark.parametrize("error", [ServerUnavailable("未启动", "down"), ServerBusy("繁忙", "busy")])
@pytest.mark.parametrize("path", ["/api/generate", "/api/stream"])
def test_model_server_down_or_busy_is_503(client, model: FakeModel, error: Exception, path: str) -> None:
    model.error = error
    response = client.post(path, json={"mode": "random"})
    message = assert_bilingual(response, 503)
    assert "模型服务" in message["zh"]
    assert response.headers["Retry-After"]
    assert model.open == 0


def test_other_client_errors_are_502_not_500(client, model: FakeModel) -> None:
    model.error = PoetClientError("奇怪", "something odd")
    assert_bilingual(client.post("/api/generate", json={}), 502)


def test_unexpected_errors_still_answer_json(client, model: FakeModel) -> None:
    model.error = RuntimeError("bug")
    assert_bilingual(client.post("/api/generate", json={}), 500)


def test_oversized_request_is_413_json(client, model: FakeModel) -> None:
    response = client.post("/api/generate", data="{" + " " * 20_000 + "}", content_type="application/json")
    assert_bilingual(response, 413)
    assert model.calls == []


@pytest.mark.parametrize(("method", "path", "status"), [("get", "/api/nothing", 404), ("get", "/api/generate", 405)])
def test_unknown_routes_answer_json(client, method: str, path: str, status: int) -> None:
    assert_bilingual(getattr(client, method)(path), status)


def test_stream_sends_progress_then_done(client, model: FakeModel) -> None:
    response = client.post("/api/stream", json={"mode": "acrostic", "text": "春夏秋冬"})
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    parsed = events(response.get_data(as_text=True))
    assert [name for name, _ in parsed] == ["progress"] * 4 + ["done"]
    assert parsed[0][1] == {"index": 0, "text": "春"}
    assert parsed[-1][1]["poems"][0]["rhyme_positions"] == [0, 1, 3]
    assert model.open == 0


def test_stream_by_get_converts_query_arguments(client, model: FakeModel) -> None:
    query = {"mode": "theme", "text": "秋夜", "n": "2", "temperature": "0.7", "rhyme": "false", "seed": ""}
    response = client.get("/api/stream", query_string=query)
    assert response.status_code == 200
    assert model.calls == [
        ("stream", {"mode": "theme", "text": "秋夜", "n": 2, "temperature": 0.7, "rhyme": False, "seed": None})
    ]


@pytest.mark.parametrize("query", [{"n": "two"}, {"rhyme": "maybe"}, {"temperature": "nan"}, {"colour": "red"}])
def test_stream_by_get_rejects_bad_query_arguments(client, query: dict) -> None:
    assert_bilingual(client.get("/api/stream", query_string=query), 400)


def test_stream_refused_by_the_server_is_400_before_any_event(client, model: FakeModel) -> None:
    model.error = InvalidRequest("开头有 9 句", "the opening has 9 lines")
    assert assert_bilingual(client.post("/api/stream", json={"mode": "continue"}), 400)["zh"] == "开头有 9 句"


def test_failure_mid_stream_becomes_an_error_event(client, model: FakeModel) -> None:
    model.error, model.fail_after = ServerUnavailable("断开", "lost"), 2
    response = client.post("/api/stream", json={})
    assert response.status_code == 200
    parsed = events(response.get_data(as_text=True))
    assert [name for name, _ in parsed] == ["progress", "progress", "error"]
    error = parsed[-1][1]["error"]
    assert error["message"] == f"{error['zh']} / {error['en']}" and "模型服务" in error["zh"]
    assert model.open == 0


def test_leaving_a_stream_early_ends_its_call(client, model: FakeModel) -> None:
    response = client.post("/api/stream", json={}, buffered=False)
    assert next(iter(response.response)).startswith(b"event: progress")
    assert model.open == 1
    response.close()
    assert model.open == 0


def test_a_stream_never_read_still_ends_its_call(client, model: FakeModel) -> None:
    response = client.post("/api/stream", json={}, buffered=False)
    assert response.status_code == 200 and model.open == 1
    response.close()
    assert model.open == 0


def test_head_on_the_stream_writes_no_poem(client, model: FakeModel) -> None:
    response = client.head("/api/stream", query_string={"mode": "random"})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert model.calls == [] and model.made == []
    refused = client.head("/api/stream", query_string={"n": "two"})  # checked as GET would be
    assert refused.status_code == 400 and model.calls == []


def test_health_when_serving(client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"web": "ok", "model": "SERVING"}


@pytest.mark.parametrize("down", ["not serving", "unreachable"])
def test_health_when_the_model_server_is_down(client, model: FakeModel, down: str) -> None:
    model.serving = False
    model.error = ServerUnavailable("未启动", "down") if down == "unreachable" else None
    response = client.get("/api/health")
    assert_bilingual(response, 503)
    assert response.get_json()["web"] == "ok" and response.get_json()["model"] != "SERVING"


def test_info_passes_the_servers_answer(client, model: FakeModel) -> None:
    assert client.get("/api/info").get_json()["model_name"] == "fake"
    model.error = ServerUnavailable("未启动", "down")
    assert_bilingual(client.get("/api/info"), 503)


@pytest.mark.parametrize(
    ("text", "to", "expected"),
    [
        ("春眠不觉晓，处处闻啼鸟。", "traditional", "春眠不覺曉，處處聞啼鳥。"),
        ("春眠不覺曉", "simplified", "春眠不觉晓"),
    ],
)
def test_convert(client, text: str, to: str, expected: str) -> None:
    response = client.post("/api/convert", json={"text": text, "to": to})
    assert response.status_code == 200
    assert response.get_json() == {"text": expected}


@pytest.mark.parametrize(
    "body",
    [
        {"text": "春", "to": "klingon"},
        {"to": "traditional"},
        {"text": 1, "to": "simplified"},
        {"text": "春" * 2001, "to": "traditional"},
        {"text": "春", "to": "traditional", "x": 1},
        [],
        {"text": "\ud800", "to": "simplified"},
    ],
)
def test_convert_rejects_bad_input(client, body) -> None:
    # json.dumps writes a lone surrogate as \ud800, which the app's own JSON encoder would not
    assert_bilingual(client.post("/api/convert", data=json.dumps(body), content_type="application/json"), 400)


def test_json_answers_carry_the_security_headers_too(client) -> None:
    assert "default-src 'self'" in client.get("/api/health").headers["Content-Security-Policy"]


def test_wsgi_flags_default_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POET_WEB_HOST", "0.0.0.0")
    monkeypatch.setenv("POET_WEB_PORT", "9123")
    settings = WebSettings.from_env()
    args = parse_args([], settings)
    assert (args.host, args.port, args.threads) == ("0.0.0.0", 9123, WebSettings.threads)
    assert parse_args(["--port", "0"], settings).port == 0


def test_the_client_settings_come_from_the_environment_once_at_create_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POET_SERVER", "model.example:7000")
    monkeypatch.setenv("POET_RETRIES", "5")
    app = create_app()
    monkeypatch.setenv("POET_SERVER", "elsewhere:1")  # read once: a later change does not reach the app
    assert (app.config["POET_SERVER"], app.config["POET_TIMEOUT"], app.config["POET_RETRIES"]) == (
        "model.example:7000",
        60.0,
        5,
    )


INPUT_THAT_USED_TO_CRASH = [  # each was a 500 (RecursionError, UnicodeEncodeError, OverflowError, TypeError)
    ("/api/generate", "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("/api/stream", "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("/api/generate", '{"\\ud800": 1}', "field name is not valid Unicode"),
    ("/api/stream", '{"mode": "random", "\\udfff": 1}', "field name is not valid Unicode"),
    ("/api/generate", '{"temperature": ' + "9" * 400 + "}", "temperature must be a finite number"),
    ("/api/generate", '{"top_p": -' + "9" * 400 + "}", "top_p must be a finite number"),
    ("/api/convert", '{"text": "a", "to": {}}', "to must be traditional or simplified"),
    ("/api/convert", '{"text": "a", "to": []}', "to must be traditional or simplified"),
]


@pytest.mark.parametrize(("path", "body", "needle"), INPUT_THAT_USED_TO_CRASH)
def test_input_that_used_to_crash_is_400(client, model: FakeModel, path: str, body: str, needle: str) -> None:
    error = assert_bilingual(client.post(path, data=body, content_type="application/json"), 400)
    assert needle in error["en"]
    assert model.calls == []


def test_a_large_integer_within_range_is_still_a_number(client, model: FakeModel) -> None:
    assert client.post("/api/generate", json={"temperature": 2, "top_p": 1}).status_code == 200
    assert model.calls == [("generate", {"temperature": 2.0, "top_p": 1.0})]


def test_health_503_says_when_to_retry(client, model: FakeModel) -> None:
    model.serving = False
    response = client.get("/api/health")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"


def test_flask_debug_in_the_environment_does_not_turn_debug_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app()
    assert not app.debug and app.config["DEBUG"] is False
    assert create_app({"DEBUG": True}).debug  # a test may still ask for it


@pytest.fixture(scope="module")
def real_client(tiny_model_dir: Path):
    """The app over a real model server on the tiny model."""
    from tests.grpc_helpers import running_server  # OpenVINO: only the slow tests load it

    with running_server(tiny_model_dir, max_batch=8, max_queue=16) as (address, _):
        yield create_app({"TESTING": True, "POET_SERVER": address}).test_client()


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/api/generate", "/api/stream"])
@pytest.mark.parametrize(("case", "body", "zh", "en"), RANGE_ERRORS, ids=[case for case, *_ in RANGE_ERRORS])
def test_a_value_out_of_range_is_refused_by_the_engine_naming_it(
    real_client, path: str, case: str, body: dict, zh: str, en: str
) -> None:
    error = assert_bilingual(real_client.post(path, json=body), 400)
    assert zh in error["zh"] and en in error["en"], error


@pytest.mark.slow
def test_the_engine_fills_in_what_the_body_leaves_out(real_client) -> None:
    response = real_client.post("/api/generate", json={"form": "五绝"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["mode"] == "random"


@pytest.mark.slow
def test_info_carries_the_contract_the_page_builds_from(real_client) -> None:
    from model.engine.contract import describe
    from model.engine.plan import automatic_forms
    from model.engine.types import MAX_TEXT, MODE_LABELS
    from model.forms import FORMS

    info = real_client.get("/api/info").get_json()
    assert info["modes"] == list(MODES) and info["forms"] == list(FORM_NAMES) and info["max_text"] == MAX_TEXT
    limits = ("name", "type", "default", "choices", "labels", "nullable")
    assert [{key: field[key] for key in limits} for field in info["fields"]] == [
        {key: field[key] for key in limits} for field in describe()
    ]
    mode = next(field for field in info["fields"] if field["name"] == "mode")
    assert dict(zip(mode["choices"], mode["labels"])) == MODE_LABELS
    assert info["form_shapes"] == [FORMS[name].shape() for name in FORM_NAMES]
    assert info["auto_forms"] == automatic_forms()
