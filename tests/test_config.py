from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.config import (
    ConfigError,
    Settings,
    SourceSettings,
    effective_settings,
    iter_settings,
    load_settings,
    secret_env_names,
    settings_reference,
)

REPO = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site" / "config" / "syndicate.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_setting_has_a_description() -> None:
    missing = [name for name, _default, description in iter_settings() if not description.strip()]
    assert missing == []


def test_docs_settings_md_is_the_generated_reference() -> None:
    committed = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == settings_reference(), "run: syndicate config docs > docs/settings.md"


def test_every_setting_is_in_the_docs() -> None:
    committed = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    for name, _default, description in iter_settings():
        assert f"| `{name}` |" in committed
        assert description in committed


def test_example_config_is_valid_and_uses_every_section() -> None:
    settings = load_settings(REPO / "config" / "syndicate.toml", env={})
    assert settings.root == REPO
    assert settings.sources and settings.categories
    text = (REPO / "config" / "syndicate.toml").read_text(encoding="utf-8")
    sections = {name.split(".")[0].removesuffix("[]") for name, _, _ in iter_settings()}
    for section in sections:
        assert f"[{section}]" in text or f"[[{section}]]" in text, section


def test_relative_paths_resolve_against_the_site_folder(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[feeds]\noutput_dir = "out"\n')
    settings = load_settings(path, env={})
    assert settings.path(settings.feeds.output_dir) == (tmp_path / "site" / "out").resolve()
    assert (
        settings.database_url
        == f"sqlite:///{(tmp_path / 'site' / 'var' / 'syndicate.db').resolve()}"
    )


def test_environment_overrides_scalars(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[feeds]\nitems = 10\n")
    env = {
        "SYNDICATE_FEEDS__ITEMS": "20",
        "SYNDICATE_STORAGE__URL": "postgresql+psycopg://u@h/db",
        "SYNDICATE_FEEDS__FORMATS": '["rss"]',
        "SYNDICATE_CONFIG": "ignored-here",
    }
    settings = load_settings(path, env=env)
    assert settings.feeds.items == 20
    assert settings.storage.url == "postgresql+psycopg://u@h/db"
    assert settings.feeds.formats == ("rss",)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("[feeds]\nitems = 0\n", {}, "syndicate.toml: feeds.items: Input should be greater than 0"),
        ("[feeds]\nitemz = 3\n", {}, "syndicate.toml: feeds.itemz: unknown key"),
        (
            '[site]\ntimezone = "Mars/Olympus"\n',
            {},
            "site.timezone: unknown time zone",
        ),
        ('[site]\nurl = "example.com"\n', {}, "site.url: must be an absolute"),
        ("[feeds\n", {}, "syndicate.toml: not valid TOML"),
        ('[feeds]\ncontent = "most"\n', {}, "feeds.content: Input should be 'full' or 'summary'"),
        (
            "",
            {"SYNDICATE_FEEDS__ITEMS": "many"},
            "SYNDICATE_FEEDS__ITEMS: feeds.items: Input should be a valid integer",
        ),
        ("", {"SYNDICATE_NOPE__X": "1"}, "SYNDICATE_NOPE__X: no settings section [nope]"),
        ("", {"SYNDICATE_FEEDS__NOPE": "1"}, "SYNDICATE_FEEDS__NOPE: [feeds] has no key 'nope'"),
        ("[[sources]]\nname = 'a'\n", {}, "toml: sources[a].path: a folder source needs path"),
        (
            "[[sources]]\nname = 'blog'\nkind = 'feed'\n",
            {},
            "toml: sources[blog].url: a feed source needs url (an http(s) URL or a file path)",
        ),
        (
            "[[sources]]\nname = 'b'\nkind = 'feed'\nurl = 'ftp://x.example/f'\n",
            {},
            "sources[b].url: only http(s) URLs or file paths, not ftp://",
        ),
        (
            "[[sources]]\nname = 'b'\nkind = 'feed'\nurl = 'https:///f'\n",
            {},
            "sources[b].url: no host",
        ),
        (
            "[[sources]]\nname = 'c'\npath = 'a'\nurl = 'https://x.example/'\n",
            {},
            "sources[c].url: a folder source has no url (a key of feed sources)",
        ),
        (
            "[[sources]]\nname = 'd'\nkind = 'feed'\npath = 'a'\nurl = 'f.xml'\n",
            {},
            "sources[d].path: a feed source has no path (a key of folder sources)",
        ),
        (
            "[[sources]]\nname = 'e'\npath = 'a'\n[[sources]]\nname = 'e'\npath = 'b'\n",
            {},
            "sources[e].name: used by two sources",
        ),
        ('[feeds]\nhub = "hub.example"\n', {}, "feeds.hub: must be an absolute"),
        (
            "[[sources]]\nname = 'f'\nkind = 'gopher'\n",
            {},
            "sources.0.kind: no source kind named 'gopher' (one of feed, folder)",
        ),
        (
            '[feeds]\nformats = ["rss", "rdf"]\n',
            {},
            "feeds.formats: no feed format named 'rdf' (one of rss, atom, json)",
        ),
        ('[feeds]\nformats = ["rss", "rss"]\n', {}, "feeds.formats: name at least one format"),
        ("[feeds]\nformats = []\n", {}, "feeds.formats: name at least one format, each once"),
        ('[site]\ntitle = "  "\n', {}, "site.title: must not be blank"),
        ('[site]\nlanguage = "en US"\n', {}, "site.language: not a language tag like"),
        ("[fetch]\nmax_bytes = 0\n", {}, "fetch.max_bytes: Input should be greater than 0"),
        ('[fetch]\nuser_agent = "a\\nb"\n', {}, "fetch.user_agent: must be one line"),
    ],
)
def test_bad_settings_name_file_key_and_problem(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env)
    message = str(info.value)
    assert "\n" not in message
    assert expected in message
    assert "Value error" not in message


def test_every_error_is_shown_each_naming_its_origin(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[feeds]\nitems = 0\n[site]\nurl = 'x'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={"SYNDICATE_WEB__PORT": "99999"})
    lines = str(info.value).splitlines()
    assert len(lines) == 3 and "more)" not in str(info.value)
    assert any(line.startswith(f"{path}: feeds.items: ") for line in lines)
    assert any(line.startswith(f"{path}: site.url: must be") for line in lines)
    assert any(line.startswith("SYNDICATE_WEB__PORT: web.port: ") for line in lines)


@pytest.mark.parametrize(
    "url",
    ["postgres://u:p@db.example/news", "postgresql://u:p@db.example/news"],
)
def test_postgres_urls_get_the_psycopg_driver(tmp_path: Path, url: str) -> None:
    settings = load_settings(write_config(tmp_path, ""), env={"SYNDICATE_STORAGE__URL": url})
    assert settings.storage.url == "postgresql+psycopg://u:p@db.example/news"


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_secrets_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", "bdhpLJMzDGoNlbkF9qooSlVDZujCiyqwba_A5M_3OxA")
    shown = repr(effective_settings(Settings()))
    assert "bdhpLJMzDGoNlbkF9qooSlVDZujCiyqwba_A5M_3OxA" not in shown
    assert "********" in shown


def test_every_setting_that_names_an_environment_variable_is_a_redacted_secret() -> None:
    settings = Settings.model_validate(
        {
            "delivery": {
                "sendgrid": {"api_key_env": "MY_SG_KEY"},
                "smtp": {"password_env": "MY_SMTP_PASSWORD"},
            },
            "web": {"metrics_token_env": "MY_METRICS"},
        }
    )
    names = secret_env_names(settings)
    assert {"MY_SG_KEY", "MY_SMTP_PASSWORD", "MY_METRICS", "SYNDICATE_SECRET_KEY"} <= names
    # Found by walking the models, so a setting added later cannot be forgotten:
    walked = {
        dotted
        for dotted, _default, _help in iter_settings()
        if dotted.rsplit(".", 1)[-1].endswith("_env")
    }
    assert len(walked) >= 3
    for dotted in walked - {d for d in walked if "[]" in d}:
        section, _, key = dotted.rpartition(".")
        model = settings
        for part in section.split("."):
            model = getattr(model, part)
        assert getattr(model, key) in names, dotted


def test_zones_and_schedules_are_parsed_once_and_again_for_a_changed_copy() -> None:
    settings = Settings.model_validate(
        {"site": {"timezone": "Europe/Vienna"}, "digest": {"timezone": "Asia/Tokyo"}}
    )
    assert settings.site.zone is settings.site.zone and str(settings.site.zone) == "Europe/Vienna"
    assert settings.digest.schedules is settings.digest.schedules
    assert str(settings.digest.schedule_of("weekly")) == "mon 08:00"
    source = SourceSettings(name="a", path="a")
    assert settings.source_zone(source) is settings.site.zone
    moved = settings.digest.model_copy(update={"timezone": "UTC", "weekly": "fri 09:30"})
    assert str(moved.zone) == "UTC" and str(moved.schedule_of("weekly")) == "fri 09:30"
