#!/usr/bin/env bash
# Builds HyperTune, then runs the dashboard and one local agent in this terminal.
# Ctrl-C stops both; if either exits, the other is stopped and the script exits non-zero.
# On a first start it prints the link that creates the first admin (a one-time setup token).
# Override with the apps' own settings: Dashboard__WebUrl, Dashboard__GrpcUrl, Dashboard__DataDir,
# Agent__DashboardUrl, Agent__TokenFile (or Agent__Token). --no-build skips apt and the build.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
source scripts/lib.sh

# The dashboard runs from a ReadyToRun publish: its code and its libraries' come compiled for this machine, so the
# first pages after a start do not wait for the JIT (the first study page opened 0.5 s sooner, bench/README.md).
dashboard_dir=src/Dashboard/bin/Release/ready-to-run
if [[ ${1:-} != --no-build ]]; then
    ensure_apt_packages dataset-fashion-mnist curl
    ensure_node
    dotnet build -c Release HyperTune.sln
    dotnet publish src/Dashboard/HyperTune.Dashboard.csproj -c Release --use-current-runtime --self-contained false \
        -p:PublishReadyToRun=true -o "$dashboard_dir"
elif [[ ! -f $dashboard_dir/HyperTune.Dashboard.dll ]]; then
    echo "No dashboard build in $dashboard_dir: run ./scripts/start.sh once without --no-build." >&2
    exit 1
fi

export Dashboard__WebUrl=${Dashboard__WebUrl:-http://127.0.0.1:5080}
export Dashboard__GrpcUrl=${Dashboard__GrpcUrl:-http://127.0.0.1:5081}
export Dashboard__DataDir=${Dashboard__DataDir:-$repo/data}

# Reach a wildcard bind (0.0.0.0, [::], *, +) through loopback.
local_url() { sed -E 's#^(https?://)(0\.0\.0\.0|\[::\]|\*|\+)#\1127.0.0.1#' <<<"${1%%;*}"; }

export Agent__DashboardUrl=${Agent__DashboardUrl:-$(local_url "$Dashboard__GrpcUrl")}
export Agent__TokenFile=${Agent__TokenFile:-$Dashboard__DataDir/agent-token}
if [[ -n ${Dashboard__AgentToken:-} && -z ${Agent__Token:-} ]]; then
    export Agent__Token=$Dashboard__AgentToken
fi
web_url=$(local_url "$Dashboard__WebUrl")
mkdir -p "$Dashboard__DataDir"

dashboard_pid=
agent_pid=

# Runs a program in the background with each line of its output prefixed by [name].
# The prefixer ignores Ctrl-C and SIGTERM so that it still shows the program's shutdown messages.
launch() {
    local name=$1
    shift
    "$@" > >(trap '' INT TERM && exec sed -u "s/^/[$name] /") 2>&1 &
}

stop_all() {
    local pid pids=()
    for pid in $dashboard_pid $agent_pid; do
        kill -0 "$pid" 2>/dev/null && pids+=("$pid")
    done
    ((${#pids[@]})) || return 0
    echo "Stopping HyperTune..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    # The hosts shut down on SIGTERM; give them time to finish, then insist.
    for _ in {1..150}; do
        kill -0 "${pids[@]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}

on_signal() {
    trap - INT TERM
    stop_all
    exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap stop_all EXIT

launch dashboard dotnet "$dashboard_dir/HyperTune.Dashboard.dll"
dashboard_pid=$!

# The dashboard writes the agent token file on first start, so the agent starts once the dashboard answers.
waited=0
until curl -s -o /dev/null --max-time 2 "$web_url"; do
    ((++waited == 60)) && echo "Still waiting for the dashboard to answer on $web_url..."
    if ! kill -0 "$dashboard_pid" 2>/dev/null; then
        status=0
        wait "$dashboard_pid" || status=$?
        echo "The dashboard exited (status $status) before it answered on $web_url." >&2
        exit $((status == 0 ? 1 : status))
    fi
    sleep 1
done
echo "HyperTune is running: open $web_url (Ctrl-C stops it)"

# First start: no user exists yet, and the dashboard wrote a one-time setup token (it also logged it).
setup_file=${Dashboard__SetupTokenFile:-$Dashboard__DataDir/setup-token}
if [[ -s $setup_file ]]; then
    echo
    echo "  No user yet. Create the first admin (the token works once):"
    echo "    $web_url/setup?token=$(<"$setup_file")"
    echo
elif [[ -n ${Dashboard__SetupToken:-} ]] && curl -s --max-time 2 "$web_url/setup" | grep -q 'data-testid="setup-token"'; then
    echo "  No user yet. Create the first admin at $web_url/setup with your Dashboard__SetupToken."
fi

launch agent dotnet src/Agent/bin/Release/net10.0/HyperTune.Agent.dll
agent_pid=$!

status=0
wait -n -p exited "$dashboard_pid" "$agent_pid" || status=$?
[[ $exited == "$dashboard_pid" ]] && name=dashboard || name=agent
echo "The $name exited (status $status); stopping the other." >&2
exit $((status == 0 ? 1 : status))
