#!/usr/bin/env bash
# Start the local Constant Contact and the wizard under gunicorn, wired together.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
SANDBOX_PORT=${SANDBOX_PORT:-5001}
WORKERS=${WORKERS:-2}
BIN=.venv/bin
SANDBOX="http://${HOST}:${SANDBOX_PORT}"

export WIZARD_PUBLIC_BASE_URL="http://${HOST}:${PORT}"
export WIZARD_CC_AUTHORIZATION_URL="${SANDBOX}/oauth2/default/v1/authorize"
export WIZARD_CC_TOKEN_URL="${SANDBOX}/oauth2/default/v1/token"
export WIZARD_CC_DEVICE_AUTHORIZATION_URL="${SANDBOX}/oauth2/default/v1/device/authorize"
export WIZARD_CC_REVOCATION_URL="${SANDBOX}/oauth2/default/v1/revoke"
export WIZARD_CC_API_BASE_URL="${SANDBOX}/v3"
export WIZARD_CC_PORTAL_URL="${SANDBOX}/pages/dma/portal/"
export WIZARD_CC_LISTS_URL="${SANDBOX}/pages/contacts/ui"

$BIN/python -m wizard.platform.bootstrap instance
$BIN/flask --app wizard db upgrade 2>&1 | grep -v '^INFO' || true
DEMO=$($BIN/flask --app wizard demo)

$BIN/flask --app wizard sandbox --host "$HOST" --port "$SANDBOX_PORT" \
  >instance/sandbox.log 2>&1 &
SANDBOX_PID=$!
trap 'kill $SANDBOX_PID 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 50); do
  if $BIN/python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
      "${SANDBOX}/activate" >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done

cat <<MSG

  ${WIZARD_PUBLIC_BASE_URL}   the wizard (gunicorn, ${WORKERS} workers)
  ${SANDBOX}   the local Constant Contact (log: instance/sandbox.log)

$(echo "$DEMO" | sed 's/^/  /')
$($BIN/python -c "from wizard.sandbox import seed; print(f'  Local Constant Contact sign-in: {seed.DEMO_LOGIN_EMAIL}  password: {seed.DEMO_PASSWORD}')")

  Press Ctrl+C to stop.

MSG

$BIN/gunicorn --workers "$WORKERS" --bind "${HOST}:${PORT}" --access-logfile - \
  --access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(M)sms' wsgi:app
