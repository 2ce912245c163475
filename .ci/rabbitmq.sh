#!/usr/bin/env bash
# A throw-away RabbitMQ for the consumer example's broker tests (tests/consumer.rs).
#
#   .ci/rabbitmq.sh start    install if missing, start, wait until it answers, print the AMQP URL
#   .ci/rabbitmq.sh stop     stop it and wait until the node has exited (no-op if not running)
#   .ci/rabbitmq.sh status   exit 0 and print the URL if it answers, exit 1 otherwise
#   .ci/rabbitmq.sh ctl ARGS rabbitmqctl against this node, e.g. `ctl list_queues name messages`
#
# Why not the distribution's service: there is no systemd here, and the packaged service listens on
# every interface. This node runs as the invoking user, from its own state directory
# ($CANCEL_TOKEN_RABBITMQ_DIR, default ${TMPDIR:-/tmp}/cancel-token-rabbitmq), with its own config,
# cookie and log, and every socket it opens is bound to 127.0.0.1: AMQP (5672), epmd (4369), the
# Erlang distribution port (25672) and the CLI tools' own distribution ports. `start` checks that
# with `ss` and fails if anything of ours listens elsewhere.
#
# `start` is idempotent: a node that already answers is left alone. A node that is not running is
# started with an empty database, so every run begins from a clean broker.
set -euo pipefail

STATE_DIR="${CANCEL_TOKEN_RABBITMQ_DIR:-${TMPDIR:-/tmp}/cancel-token-rabbitmq}"
AMQP_PORT=5672
DIST_PORT=25672
URL="amqp://guest:guest@127.0.0.1:${AMQP_PORT}/%2f"
START_TIMEOUT="${CANCEL_TOKEN_RABBITMQ_START_TIMEOUT:-120}"
RMQ_BIN=/usr/lib/rabbitmq/bin

die() { echo "rabbitmq.sh: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root (or sudo) to run: $*"
    fi
}

install_if_missing() {
    local missing=()
    [ -x "$RMQ_BIN/rabbitmq-server" ] || missing+=(rabbitmq-server)
    command -v ss >/dev/null || missing+=(iproute2)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "rabbitmq.sh: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    [ -x "$RMQ_BIN/rabbitmq-server" ] || die "rabbitmq-server is still missing after apt-get install"
    # Under systemd the package starts its own service (all interfaces) and an epmd socket unit
    # (all interfaces): we just installed them, so we turn them off; our node is the one we want.
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        as_root systemctl disable --now rabbitmq-server.service epmd.socket epmd.service >&2 || true
    fi
}

# Everything the server and the CLI tools must agree on. HOME holds the Erlang cookie, so the node
# and rabbitmqctl share ours instead of the packaged service's /var/lib/rabbitmq/.erlang.cookie.
setup_env() {
    export HOME="$STATE_DIR/home"
    mkdir -p "$HOME"
    if [ ! -s "$HOME/.erlang.cookie" ]; then
        (umask 077; head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$HOME/.erlang.cookie")
    fi
    chmod 400 "$HOME/.erlang.cookie"
    # Erlang writes crash dumps to the working directory by default: keep them out of the repo.
    export ERL_CRASH_DUMP="$STATE_DIR/erl_crash.dump"
    cd "$STATE_DIR"
    export RABBITMQ_NODENAME=rabbit@localhost
    export RABBITMQ_USE_LONGNAME=false
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT=$AMQP_PORT
    export RABBITMQ_DIST_PORT=$DIST_PORT
    export ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    # Our own files, so nothing in /etc/rabbitmq (system env file, plugins) changes this node.
    export RABBITMQ_CONF_ENV_FILE="$STATE_DIR/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$STATE_DIR/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$STATE_DIR/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$STATE_DIR/mnesia"
    export RABBITMQ_LOG_BASE="$STATE_DIR/log"
    export RABBITMQ_PID_FILE="$STATE_DIR/rabbit.pid"
}

ctl() { "$RMQ_BIN/rabbitmqctl" "$@"; }

answers() { "$RMQ_BIN/rabbitmq-diagnostics" -q ping >/dev/null 2>&1; }

write_config() {
    mkdir -p "$RABBITMQ_LOG_BASE"
    : >"$RABBITMQ_CONF_ENV_FILE"
    echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
    echo '[].' >"$RABBITMQ_ADVANCED_CONFIG_FILE"
    cat >"$RABBITMQ_CONFIG_FILE" <<EOF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
# guest may log in from loopback only (the default, spelled out).
loopback_users.guest = true
log.file.level = info
log.console = false
EOF
}

check_loopback_only() {
    local pid=$1 ours bad
    # Listening TCP sockets of the node's OS process and of epmd; anything but loopback fails
    # (epmd always adds [::1] beside the address it is given: still loopback).
    ours=$(ss -Hltnp | grep -E "pid=$pid,|\"epmd\"" || true)
    [ -n "$ours" ] || die "found no listening socket of the node (pid $pid)"
    bad=$(echo "$ours" | awk '{print $4}' | grep -vE '^(127\.0\.0\.1|\[::1\]):' || true)
    if [ -n "$bad" ]; then
        ss -ltnp >&2
        die "the broker listens on a non-loopback address: $bad"
    fi
    echo "rabbitmq.sh: listening (loopback only):" >&2
    echo "$ours" | awk '{print "  " $4 "  " $6}' >&2
}

start() {
    install_if_missing
    setup_env
    if answers; then
        echo "rabbitmq.sh: already running" >&2
        check_loopback_only "$(cat "$RABBITMQ_PID_FILE")"
        echo "$URL"
        return 0
    fi
    if ss -Hltn "sport = :$AMQP_PORT" | grep -q .; then
        ss -ltnp "sport = :$AMQP_PORT" >&2
        die "port $AMQP_PORT is taken by something else (another RabbitMQ? stop it first)"
    fi
    rm -rf "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_PID_FILE"
    write_config
    local log="$RABBITMQ_LOG_BASE/startup.log"
    # setsid: the node must outlive this script and not receive the caller's Ctrl-C.
    setsid "$RMQ_BIN/rabbitmq-server" >"$log" 2>&1 </dev/null &
    local launcher=$!
    local deadline=$((SECONDS + START_TIMEOUT))
    until answers; do
        if ! kill -0 "$launcher" 2>/dev/null; then
            tail -n 40 "$log" >&2 || true
            die "rabbitmq-server exited during start-up (log: $log)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 40 "$log" >&2 || true
            die "rabbitmq did not answer within ${START_TIMEOUT}s (log: $log)"
        fi
        sleep 1
    done
    # `ping` answers once the Erlang node is up; wait for the rabbit application itself too.
    ctl -q await_startup --timeout "$START_TIMEOUT" >/dev/null || die "rabbit application did not start"
    check_loopback_only "$(cat "$RABBITMQ_PID_FILE")"
    echo "rabbitmq.sh: started in $STATE_DIR (log: $RABBITMQ_LOG_BASE)" >&2
    echo "$URL"
}

stop() {
    [ -x "$RMQ_BIN/rabbitmqctl" ] || { echo "rabbitmq.sh: not installed, nothing to stop" >&2; return 0; }
    setup_env
    if ! answers; then
        echo "rabbitmq.sh: not running" >&2
        return 0
    fi
    # With the pid file, `stop` returns only once the OS process has exited.
    ctl -q stop "$RABBITMQ_PID_FILE" >&2
    # epmd was started by our node (bound to loopback); leave it if other nodes still use it.
    if command -v epmd >/dev/null && ! epmd -names 2>/dev/null | grep -q '^name '; then
        epmd -kill >/dev/null 2>&1 || true
    fi
    echo "rabbitmq.sh: stopped" >&2
}

status() {
    [ -x "$RMQ_BIN/rabbitmqctl" ] || die "not installed"
    setup_env
    if answers; then echo "$URL"; else echo "rabbitmq.sh: not running" >&2; return 1; fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    ctl) shift; setup_env; ctl "$@" ;;
    *) echo "usage: $0 start|stop|status|ctl ARGS..." >&2; exit 2 ;;
esac
