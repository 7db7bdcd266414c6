# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Config files shaped like those of the integrations people run with Tiflux (docs: ../shared notes, "How real
integrations keep the token"), pushed through the editors and through token_push, then read back the way that
integration reads them: only the token's bytes change, and the integration reads the new token."""

from __future__ import annotations

import base64
import io
import json
import re

import dotenv
import pytest
import yaml
from pydantic_settings import BaseSettings, SettingsConfigDict

from ansible.module_utils import basic

from ansible_collections.tokenops.tiflux.plugins.module_utils import _formats as F
from ansible_collections.tokenops.tiflux.plugins.module_utils._token import fingerprint
from ansible_collections.tokenops.tiflux.plugins.modules import token_push


def jwt(jti, iat):
    """A token shaped like Tiflux's: an HS256 JWT whose claims are those of a published one (exp = iat + 2 years)."""
    def part(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    claims = dict(jti=jti, sub=4242, scp="user", aud=None, iat=iat, exp=iat + 2 * 365 * 86400, req_limit=120)
    return ".".join((part(b'{"alg":"HS256"}'), part(json.dumps(claims).encode()), part(jti.encode() * 2)))


OLD = jwt("0b9d2c6e-1f3a-4c5d-9e8f-7a6b5c4d3e2f", 1759746540)
NEW = jwt("5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716", 1791282540)


def split_on_first_equals(path):
    """A GLPI sync agent's hand-written reader: split each line on its first '=', strip; quotes stay in the value."""
    values = {}
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if "=" in line and not line.lstrip().startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


# The parse() of the dotenv package for Node (motdotla/dotenv), which Tiflux's own client reads its .env with;
# Node reads the file as UTF-8, so Latin-1 bytes become U+FFFD there.
NODE_DOTENV_LINE = re.compile(
    r"(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*\"(?:\\\"|[^\"])*\"|\s*`(?:\\`|[^`])*`"
    r"|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)", re.M)


def node_dotenv(path):
    with open(path, "rb") as stream:
        text = re.sub(r"\r\n?", "\n", stream.read().decode("utf-8", "replace"))
    values = {}
    for match in NODE_DOTENV_LINE.finditer(text):
        value = (match.group(2) or "").strip()
        quote = value[:1]
        value = re.sub(r"^(['\"`])([\s\S]*)\1$", r"\2", value, flags=re.M)
        if quote == '"':
            value = value.replace("\\n", "\n").replace("\\r", "\r")
        values[match.group(1)] = value
    return values


def python_dotenv(path):
    return dotenv.dotenv_values(path, interpolate=False)


class FastApiSettings(BaseSettings):
    """A FastAPI service's settings, read by pydantic-settings from its .env."""

    model_config = SettingsConfigDict(env_file_encoding="utf-8", extra="ignore")
    app_name: str
    tiflux_api_token: str
    tiflux_base_url: str
    tiflux_timeout: int


def pydantic_settings(path):
    return FastApiSettings(_env_file=path).model_dump()


def json_file(path):
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def yaml_file(path):
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def dig(data, path):
    for part in path:
        data = data[part]
    return data


# (name, file name, format, key, content, reader, where the reader has the token)
INTEGRATIONS = [
    ("glpi-credenciais", "credenciais.txt", "env", "TOKEN_TIFLUX", (
        "# Credenciais do agente de sincronização GLPI -> Tiflux\n"
        "URL_GLPI = https://glpi.example.com.br/apirest.php\n"
        "APP_TOKEN_GLPI = 9d2f0c1b7e6a4d3c8b5a\n"
        "URL_TIFLUX = https://api.tiflux.com/api/v2\n"
        "TOKEN_TIFLUX = %s\n"
        "INTERVALO_MINUTOS = 5\n").encode("utf-8"), split_on_first_equals, ["TOKEN_TIFLUX"]),
    ("tiflux-client-env-example", ".env.example", "env", "TIFLUX_API_KEY", (
        "# Configuração do servidor MCP do Tiflux\n"
        "# TIFLUX_API_KEY é obrigatório: gere o token em Configurações > Minha conta > Sessões > Sessões API\n"
        "TIFLUX_API_KEY=%s\n"
        "\n"
        "# Opcional: endereço da API (padrão: https://api.tiflux.com/api/v2)\n"
        "TIFLUX_API_BASE_URL=https://api.tiflux.com/api/v2\n").encode("latin-1"), node_dotenv, ["TIFLUX_API_KEY"]),
    ("mcp-local-server", ".mcp.json", "json", "mcpServers.tiflux-local.env.TIFLUX_API_KEY", (
        '{\n'
        '  "mcpServers": {\n'
        '    "tiflux-local": {\n'
        '      "command": "npx",\n'
        '      "args": ["-y", "tiflux-mcp"],\n'
        '      "env": {\n'
        '        "TIFLUX_API_KEY": "%s",\n'
        '        "TIFLUX_API_BASE_URL": "https://api.tiflux.com/api/v2"\n'
        '      }\n'
        '    }\n'
        '  }\n'
        '}\n').encode("utf-8"), json_file, ["mcpServers", "tiflux-local", "env", "TIFLUX_API_KEY"]),
    ("mcp-hosted-server", ".claude.json", "json", "mcpServers.tiflux.headers.x-tiflux-api-key", (
        '{"numStartups": 41, "theme": "dark", "mcpServers": {"tiflux": {"type": "http", '
        '"url": "https://mcp.example.invalid/mcp", "headers": {"x-tiflux-api-key": "%s"}}}}').encode("utf-8"),
        json_file, ["mcpServers", "tiflux", "headers", "x-tiflux-api-key"]),
    ("docker-compose-environment", "docker-compose.yml", "yaml", "services.glpi-tiflux-sync.environment.TOKEN_TIFLUX", (
        "# GLPI -> Tiflux, one container\n"
        "services:\n"
        "  glpi-tiflux-sync:\n"
        "    image: registry.example.com/glpi-tiflux-sync:1.4\n"
        "    restart: unless-stopped\n"
        "    environment:\n"
        "      URL_TIFLUX: https://api.tiflux.com/api/v2\n"
        "      TOKEN_TIFLUX: %s\n"
        "      TZ: America/Sao_Paulo\n"
        "    volumes:\n"
        "      - ./credenciais.txt:/app/credenciais.txt:ro\n").encode("utf-8"), yaml_file,
        ["services", "glpi-tiflux-sync", "environment", "TOKEN_TIFLUX"]),
    ("pydantic-settings-env", ".env", "env", "TIFLUX_API_TOKEN", (
        "# FastAPI service settings (pydantic-settings)\n"
        "APP_NAME=helpdesk-bridge\n"
        "TIFLUX_API_TOKEN=%s\n"
        "TIFLUX_BASE_URL=https://api.tiflux.com/api/v2\n"
        "# seconds\n"
        "TIFLUX_TIMEOUT=15\n").encode("utf-8"), pydantic_settings, ["tiflux_api_token"]),
    ("python-dotenv-env", ".env", "env", "TIFLUX_API_TOKEN", (
        "# Migração de chamados para o Tiflux\r\n"
        'export TIFLUX_BASE_URL="https://api.tiflux.com/api/v2"\r\n'
        'TIFLUX_API_TOKEN="%s"  # gerado em Sessões API\r\n'
        "ORIGEM_DB_URL='postgresql://migrador@db.example.com/helpdesk'\r\n").encode("utf-8"), python_dotenv,
        ["TIFLUX_API_TOKEN"]),
    ("desktop-config-json", "config.json", "json", "token", (
        '{\n\t"token": "%s",\n\t"empresa": "Suporte Ágil Ltda",\n\t"intervalo": 60,\n\t"notificacoes": true\n}')
        .encode("utf-8"), json_file, ["token"]),
]
IDS = [case[0] for case in INTEGRATIONS]


@pytest.fixture(autouse=True)
def no_settings_in_the_environment(monkeypatch):
    for name in FastApiSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def config(tmp_path, filename, content):
    path = tmp_path / filename
    path.write_bytes(content.replace(b"%s", OLD.encode()))
    assert path.read_bytes().count(OLD.encode()) == 1
    return path


@pytest.mark.parametrize("name, filename, fmt, key, content, reader, where", INTEGRATIONS, ids=IDS)
def test_the_editor_changes_only_the_token_and_the_integration_reads_the_new_one(
        tmp_path, name, filename, fmt, key, content, reader, where):
    path = config(tmp_path, filename, content)
    before = path.read_bytes()
    assert dig(reader(str(path)), where) == OLD
    editor = F.get_editor(fmt)
    text = F.decode(before, fmt)
    assert editor.read(text, key) == OLD
    path.write_bytes(F.encode(editor.set(text, key, NEW)))
    assert path.read_bytes() == before.replace(OLD.encode(), NEW.encode())
    assert dig(reader(str(path)), where) == NEW


@pytest.fixture
def run_token_push(capsys, monkeypatch, tmp_path):
    def run(**args):
        payload = dict(args, _ansible_remote_tmp=str(tmp_path), _ansible_keep_remote_files=False, _ansible_diff=True)
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode())
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
        with pytest.raises(SystemExit):
            token_push.main()
        out = capsys.readouterr().out
        return json.loads(out), out
    return run


@pytest.mark.parametrize("name, filename, fmt, key, content, reader, where", INTEGRATIONS, ids=IDS)
def test_token_push_changes_only_the_token_and_the_integration_reads_the_new_one(
        tmp_path, run_token_push, name, filename, fmt, key, content, reader, where):
    path = config(tmp_path, filename, content)
    before = path.read_bytes()
    result, out = run_token_push(path=str(path), format=fmt, key=key, token=NEW)
    assert result["changed"] is True, result
    assert result["fingerprint"] == fingerprint(NEW) and result["previous_fingerprint"] == fingerprint(OLD)
    assert path.read_bytes() == before.replace(OLD.encode(), NEW.encode())
    assert dig(reader(str(path)), where) == NEW
    assert OLD not in out and NEW not in out and OLD[40:60] not in out and NEW[40:60] not in out
    # the diff shows the file as its integration has it, the token as its fingerprint
    expected = before.decode("latin-1" if name == "tiflux-client-env-example" else "utf-8")
    assert result["diff"]["after"] == expected.replace(OLD, "<token %s>" % fingerprint(NEW))
    again, _out = run_token_push(path=str(path), format=fmt, key=key, token=NEW)
    assert again["changed"] is False


def test_python_dotenv_reads_the_latin1_env_example_once_told_its_encoding(tmp_path):
    path = config(tmp_path, ".env.example", INTEGRATIONS[1][4])
    text = F.decode(path.read_bytes(), "env")
    path.write_bytes(F.encode(F.get_editor("env").set(text, "TIFLUX_API_KEY", NEW)))
    assert dotenv.dotenv_values(str(path), encoding="latin-1")["TIFLUX_API_KEY"] == NEW
    values = dotenv.dotenv_values(stream=io.StringIO(path.read_bytes().decode("latin-1")))
    assert values == {"TIFLUX_API_KEY": NEW, "TIFLUX_API_BASE_URL": "https://api.tiflux.com/api/v2"}
