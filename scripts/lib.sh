# Helpers sourced by start.sh and test.sh.

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# Installs the Debian packages that are not installed yet; does nothing (and never calls apt) when all are.
ensure_apt_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    ((${#missing[@]})) || return 0

    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    echo "Installing ${missing[*]} with apt-get..."
    # Another apt run (unattended upgrades, a second script) may hold the lock: wait for it rather than fail.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}

# Node.js 18+ and npm, which build the dashboard's plotly.js from the npm registry at build time
# (build/PlotlyBundle.targets); Debian 12's packages will do. Nothing is installed when both are on the PATH.
ensure_node() {
    command -v node >/dev/null && command -v npm >/dev/null && return 0
    ensure_apt_packages nodejs npm
}
