#!/usr/bin/env bash
# Install the Debian packages the archive and its test suite need (OCR, CJK fonts — a Hei face and,
# for the OCR benchmark's second typeface, a Ming face —
# PostgreSQL for the integration tests, Redis for the scale-out tests' job queue, Chromium for the browser
# tests, clamd for the four-property check's virus scan and its test (which starts clamd with its own EICAR
# signature: no download), Node.js and npm for the browser assets of package.json (make assets).
# Idempotent: when everything is present it touches nothing and takes well under a second.
set -euo pipefail

PACKAGES=(
  tesseract-ocr
  tesseract-ocr-chi-sim
  tesseract-ocr-eng
  fonts-wqy-zenhei
  fonts-arphic-uming
  postgresql
  redis-server
  chromium
  clamav-daemon
  nodejs
)

log() { echo "install-system-deps: $*"; }

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Beyond dpkg's word, check the files the project actually uses.
files_present() {
  case "$1" in
    tesseract-ocr) command -v tesseract >/dev/null ;;
    tesseract-ocr-chi-sim) compgen -G '/usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata' >/dev/null ;;
    tesseract-ocr-eng) compgen -G '/usr/share/tesseract-ocr/*/tessdata/eng.traineddata' >/dev/null ;;
    fonts-arphic-uming) [ -f /usr/share/fonts/truetype/arphic/uming.ttc ] ;;
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ;;
    redis-server) command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] ;;
    chromium) command -v chromium >/dev/null ;;
    clamav-daemon) [ -x /usr/sbin/clamd ] ;;
    nodejs) command -v node >/dev/null ;;
    *) true ;;
  esac
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if is_installed "$pkg" && files_present "$pkg"; then
    log "present: $pkg"
  else
    log "missing: $pkg"
    missing+=("$pkg")
  fi
done

# npm installs the browser assets (package.json); some Node builds bundle it, Debian packages it apart.
command -v npm >/dev/null || missing+=(npm)

if [ "${#missing[@]}" -eq 0 ]; then
  log "all system packages present, nothing to do"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  log "error: apt-get not found; install by hand: ${missing[*]}" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    log "error: not root and sudo is unavailable; install by hand: ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
log "running apt-get update"
"${SUDO[@]}" apt-get update -qq
log "installing: ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null

for pkg in "${missing[@]}"; do
  if ! is_installed "$pkg" || ! files_present "$pkg"; then
    log "error: $pkg still missing after apt-get install" >&2
    exit 1
  fi
done
log "installed: ${missing[*]}"
