# common.sh - what the capture scripts of captures/generated share: scenario
# selection, a work directory cleaned up on exit with every process started,
# free ports, waiting for a server, tcpdump on loopback, the content served.
# Sourced (not run) by make.sh and make-tls.sh after they set `out` and
# `all_scenarios`; the script's arguments are the scenarios to run.
selected=("$@")
for s in "${selected[@]}"; do
    [[ " ${all_scenarios[*]} " == *" $s "* ]] || { echo "unknown scenario: $s (see --list)" >&2; exit 2; }
done
want() {  # $1 = scenario name: run it? (all when none was named)
    (( ${#selected[@]} == 0 )) || [[ " ${selected[*]} " == *" $1 "* ]]
}
work=$(mktemp -d /tmp/kalens-gen.XXXXXX)
chmod 755 "$work"   # nginx workers run as an unprivileged user and must read www/
pids=()

cleanup() {
    local p
    for p in "${pids[@]:-}"; do
        [[ -n $p ]] && kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]:-}"; do
        [[ -n $p ]] && wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

log() { printf '== %s\n' "$*" >&2; }

free_port() {  # $1 = 127.0.0.1 or ::1
    python3 - "$1" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])
s.close()
EOF
}

wait_port() {  # $1 host, $2 port: wait (bounded) until something accepts
    local i
    for i in $(seq 1 100); do
        if python3 -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 0.2).close()" "$1" "$2" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "server on $1 port $2 did not come up" >&2
    return 1
}

# --- tcpdump --------------------------------------------------------------
cap_pid=
cap_err=
start_capture() {  # $1 = output pcap, $2 = port
    rm -f "$1"
    cap_err="$work/tcpdump.$(basename "$1").err"   # one per capture: no stale "listening on"
    tcpdump -i lo -w "$1" -s 0 -U -Z root "tcp port $2" 2>"$cap_err" &
    cap_pid=$!
    pids+=("$cap_pid")
    local i
    for i in $(seq 1 100); do
        grep -qs 'listening on' "$cap_err" && break
        sleep 0.1
    done
    grep -qs 'listening on' "$cap_err" || { cat "$cap_err" >&2; return 1; }
    sleep 0.3
}
stop_capture() {
    sleep 1
    kill -INT "$cap_pid"
    wait "$cap_pid" || true
    grep -E 'packets (captured|dropped)' "$cap_err" >&2 || true
}

# --- servers ----------------------------------------------------------------
# nginx_start BODY: nginx (one worker, private paths under $work/nginx, the
# content of $work/www) with BODY inside http { } after the common lines;
# started in the background, its PID in nginx_pid and pids.
nginx_start() {
    mkdir -p "$work/nginx/logs"
    cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $work/nginx/logs/access.log;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    root $work/www;
$1
}
EOF
    nginx -p "$work/nginx" -e "$work/nginx/logs/error.log" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
    nginx_pid=$!
    pids+=("$nginx_pid")
}

# apache_start PORT BODY: Apache 2.4 (event MPM, private paths under
# $work/apache, the content of $work/www) on 127.0.0.1:PORT with BODY at the
# end of its configuration; started in the background, its PID in pids.
apache_start() {
    mkdir -p "$work/apache"
    cat > "$work/apache/httpd.conf" <<EOF
ServerRoot "$work/apache"
ServerName localhost
Listen 127.0.0.1:$1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
User www-data
Group www-data
PidFile $work/apache/httpd.pid
ErrorLog $work/apache/error.log
DocumentRoot "$work/www"
<Directory "$work/www">
    Require all granted
</Directory>
$2
EOF
    apache2 -f "$work/apache/httpd.conf" -DFOREGROUND > "$work/apache/out.log" 2>&1 &
    pids+=("$!")
}

# --- content --------------------------------------------------------------
mkdir -p "$work/www"
python3 - "$work/www" <<'EOF'
import sys, os
d = sys.argv[1]
with open(os.path.join(d, "small.html"), "w") as f:
    f.write("<!doctype html>\n<title>kalens</title>\n<p>small test page for kalens captures</p>\n")
def blob(name, size):
    line = b"kalens test data 0123456789abcdefghijklmnopqrstuvwxyz\n"
    data = (line * (size // len(line) + 1))[:size]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
blob("100k.bin", 100 * 1024)
blob("1m.bin", 1024 * 1024)
EOF
