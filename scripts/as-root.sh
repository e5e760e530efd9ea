# Sourced by the scripts: re-runs the calling script as root (apt-get, and a helper that trusts only root).
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -- "$0" "$@"
  fi
  echo "$0: run this as root (or install sudo)" >&2
  exit 1
fi
