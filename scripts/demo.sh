#!/usr/bin/env bash
# Run the whole product on loopback: Redis (unless one already answers), web, worker, beat.
# Ctrl-C stops everything this script started, and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
PORT=${PORT:-8000}
REDIS_PORT=${DEMO_REDIS_PORT:-6379}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT}/0}
export DEBUG=${DEBUG:-0}
export SITE_URL=${SITE_URL:-http://127.0.0.1:${PORT}}
mkdir -p var/redis var/log

pids=()
stop_all() {
    trap - INT TERM EXIT
    if [ ${#pids[@]} -gt 0 ]; then
        echo
        echo "stopping: ${pids[*]}"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap stop_all INT TERM EXIT

if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "using the Redis already running on 127.0.0.1:$REDIS_PORT (it is left running on exit)"
else
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$PWD/var/redis" \
        --save "" --appendonly yes --daemonize no --logfile "$PWD/var/log/redis.log" &
    pids+=($!)
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "redis-server did not start; see var/log/redis.log"; exit 1; }
fi

# Where the demo's alerts go: a mail sink and a webhook sink on loopback, so what /alerts/
# shows as delivered can be read in var/log/mail-sink.log and var/log/webhook-sink.log.
SMTP_SINK_PORT=${DEMO_SMTP_PORT:-1025}
HOOK_SINK_PORT=${DEMO_WEBHOOK_PORT:-8025}
export SMTP_HOST=${SMTP_HOST:-127.0.0.1} SMTP_PORT=${SMTP_PORT:-$SMTP_SINK_PORT}
$BIN/python -m aiosmtpd -n -l "127.0.0.1:$SMTP_SINK_PORT" -c aiosmtpd.handlers.Debugging stdout \
    >var/log/mail-sink.log 2>&1 &
pids+=($!)
# fleet/alerts/demo.py DEMO_WEBHOOK_SECRET: what seed_demo signs the demo rule's webhook with.
$BIN/python scripts/demo_sink.py "$HOOK_SINK_PORT" demo-webhook-secret var/log/webhook-sink.log \
    2>>var/log/webhook-sink.log &
pids+=($!)

$BIN/python manage.py migrate --no-input -v 0
$BIN/python manage.py collectstatic --no-input -v 0
$BIN/python manage.py import_codes
$BIN/python manage.py seed_demo --webhook-url "http://127.0.0.1:$HOOK_SINK_PORT/hooks/demo"
password=$($BIN/python manage.py demo_login)
$BIN/python manage.py run_pipeline

$BIN/celery -A fleet worker --loglevel INFO --concurrency 2 >var/log/worker.log 2>&1 &
pids+=($!)
$BIN/celery -A fleet beat --loglevel INFO --schedule var/celerybeat-schedule >var/log/beat.log 2>&1 &
pids+=($!)
# Gevent workers (fleet/gunicorn.conf.py): nothing buffers in front of gunicorn here.
$BIN/gunicorn -c fleet/gunicorn.conf.py --bind "127.0.0.1:$PORT" >var/log/web.log 2>&1 &
pids+=($!)

for _ in $(seq 100); do
    $BIN/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/healthz', timeout=2)" \
        2>/dev/null && break
    sleep 0.2
done

cat <<MSG

  Fleet errors is running: http://127.0.0.1:$PORT/
  Log in as:  operator / $password
  Logs:       var/log/{web,worker,beat,redis}.log
  Alerts:     http://127.0.0.1:$PORT/alerts/ (sent to var/log/mail-sink.log and
              var/log/webhook-sink.log)
  Ctrl-C stops web, worker, beat, the sinks$( [ ${#pids[@]} -eq 6 ] && echo ' and Redis').

MSG
wait -n "${pids[@]}" || true
echo "a process has stopped (Ctrl-C, or see var/log/); stopping the rest"
