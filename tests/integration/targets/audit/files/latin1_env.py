# Copyright (c) tokenops.tiflux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tiflux's own client's .env.example, Latin-1 encoded, as the client ships it.

  latin1_env.py write PATH              write it with a placeholder value
  latin1_env.py check PATH FINGERPRINT  every byte is as written but the value, which is the token of that fingerprint

Prints no token.
"""

import hashlib
import sys

HEAD = "# Configuração do servidor MCP do Tiflux\n# TIFLUX_API_KEY é obrigatório: gere o token em Sessões API\nTIFLUX_API_KEY="
TAIL = "\n\n# Opcional: endereço da API\nTIFLUX_API_BASE_URL=https://api.tiflux.com/api/v2\n"
HEAD, TAIL = HEAD.encode("latin-1"), TAIL.encode("latin-1")

command, path = sys.argv[1], sys.argv[2]
if command == "write":
    with open(path, "wb") as stream:
        stream.write(HEAD + b"coloque-aqui-o-token" + TAIL)
else:
    with open(path, "rb") as stream:
        data = stream.read()
    token = data[len(HEAD):len(data) - len(TAIL)]
    if not (data.startswith(HEAD) and data.endswith(TAIL)):
        sys.exit("the bytes around the token changed")
    if "sha256:" + hashlib.sha256(token).hexdigest()[:16] != sys.argv[3]:
        sys.exit("the file does not hold the token %s" % sys.argv[3])
    print("only the token changed")
