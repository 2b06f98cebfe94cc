# Shared by scripts/run and scripts/test: make sure the build and test services exist.
# Debian packages only; nothing is downloaded from anywhere else.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Build needs: libpq (diesel's PostgreSQL driver links it) and pkg-config. SQLite is built in.
ensure_build_deps() {
  local missing=()
  dpkg -s libpq-dev >/dev/null 2>&1 || missing+=(libpq-dev)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  command -v cc >/dev/null || missing+=(build-essential)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing build dependencies: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# The tracking page's browser test drives Debian's Chromium through chromedriver.
ensure_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing chromium and chromium-driver (browser test of the tracking page)"
    apt_install chromium chromium-driver fonts-dejavu-core
  fi
}

# The email tests send through a real SMTP server: tests/notify/smtp_sink.py runs on aiosmtpd
# (Debian python3-aiosmtpd, which serves /usr/bin/python3; a python3 earlier in PATH, such as
# pyenv's, may not see it). Exports CIVICPOST_TEST_SMTP_PYTHON, the interpreter that has it.
smtp_python() {
  local py
  for py in "${CIVICPOST_TEST_SMTP_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null && "$py" -c 'import aiosmtpd' >/dev/null 2>&1 \
      && { command -v "$py"; return 0; }
  done
  return 1
}
ensure_smtp() {
  if ! smtp_python >/dev/null; then
    echo "installing python3-aiosmtpd (SMTP server of the email tests)"
    apt_install python3 python3-aiosmtpd
  fi
  CIVICPOST_TEST_SMTP_PYTHON=$(smtp_python) || { echo "aiosmtpd still not importable" >&2; return 1; }
  export CIVICPOST_TEST_SMTP_PYTHON
}
