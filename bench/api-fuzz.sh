#!/usr/bin/env bash
# Schema-based fuzzing of the public API: schemathesis (from PyPI, in a virtualenv under
# ~/.cache/civicpost) generates requests from /openapi.json, valid and invalid, against a
# sandbox `civicpost serve` on a fresh SQLite file, once with an agency key and once with an
# operator key. Fails on any 5xx (check `not_a_server_error`); the report is written to
# bench/out/api-fuzz-<role>.txt.
# Usage: bench/api-fuzz.sh   (API_FUZZ_SECONDS=300 per role)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${API_FUZZ_SECONDS:-300}"
venv="$HOME/.cache/civicpost/schemathesis"
[ -x "$venv/bin/st" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/civicpost/target}"
cargo build --release --quiet --bin civicpost
bin="$CARGO_TARGET_DIR/release/civicpost"
out=bench/out; mkdir -p "$out"
work=$(mktemp -d)
pid=""
cleanup() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATABASE_URL="$work/civicpost.db" CIVICPOST__LOG__LEVEL=warn \
  CIVICPOST__NOTIFY__SMS__OUTBOX_DIR="$work/sms" CIVICPOST__NOTIFY__EMAIL__TRANSPORT=memory \
  CIVICPOST__TRACKING__RATE_LIMIT_PER_MINUTE=0
unset REDIS_URL CIVICPOST_CONFIG
(cd "$work" && "$bin" serve --bind "127.0.0.1:$port" > serve.log 2>&1) &
pid=$!
for _ in $(seq 300); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
agency_key=$(grep -A1 "API key" "$work/serve.log" | tail -n 1 | tr -d ' ')
operator_key=$("$bin" operator create-key --label "api fuzzing" | tail -n 1)
status=0
for role in agency operator; do
  key=$([ "$role" = agency ] && echo "$agency_key" || echo "$operator_key")
  echo "== schemathesis as $role, ${seconds}s"
  "$venv/bin/st" run "$base/openapi.json" --url "$base" -H "Authorization: Bearer $key" \
    --checks not_a_server_error --max-time "$seconds" --workers 2 \
    --suppress-health-check all > "$out/api-fuzz-$role.txt" 2>&1 || true
  tail -n 25 "$out/api-fuzz-$role.txt"
  # A failed check (a 5xx) fails the run. schemathesis also exits non-zero on its own
  # internal errors (a Hypothesis bug once broke one operation's coverage phase): those are
  # shown above but are not the service's.
  if grep -q "FAILURES" "$out/api-fuzz-$role.txt" || ! grep -q "passed" "$out/api-fuzz-$role.txt"; then
    status=1
  fi
done
# actix-http logs requests it cannot even parse (a NUL in a header) at ERROR and answers 400;
# those are the fuzzer's doing. Anything else at ERROR, or a panic, fails the run.
errors=$(grep -a "panicked\|ERROR" "$work/serve.log" | grep -av "actix_http::h1::dispatcher.*request parse error" || true)
if [ -n "$errors" ]; then
  echo "the service logged errors:"; echo "$errors" | head -20; status=1
fi
exit $status
