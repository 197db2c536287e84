#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian, when they are missing:
# PostgreSQL server binaries (the tests start a private cluster on 127.0.0.1), Chromium for the
# end-to-end tests (Playwright drives /usr/bin/chromium; it never downloads a browser), and Pango +
# fonts for WeasyPrint's PDF forms.
set -euo pipefail

need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/*/libpangoft2-1.0.so.0" >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing test dependencies from Debian: ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
