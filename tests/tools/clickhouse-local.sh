#!/usr/bin/env bash
# Private ClickHouse servers for tests: N servers (shards) on 127.0.0.1,
# free ports, each with its own config, data folder and log under DIR, and
# a cluster `kalens_test` naming all of them (one replica per shard).
#
#   tests/tools/clickhouse-local.sh start DIR [N]   start N (default 2); prints one line per
#                                                   server: "HTTP_PORT TCP_PORT PID"
#   tests/tools/clickhouse-local.sh stop DIR        stop every server started in DIR (by PID)
#   tests/tools/clickhouse-local.sh restart DIR I   start server I (0-based) again, same ports
#
# Debian 12's clickhouse-server (18.16).  Bounded waits (30 s per server);
# the servers listen on 127.0.0.1 only and are stopped by the PIDs in DIR.
set -euo pipefail
cmd=$1 dir=$2
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
config() {  # i http tcp inter: writes DIR/sI/config.xml
    local i=$1 http=$2 tcp=$3 inter=$4 d="$dir/s$1"
    mkdir -p "$d/data/tmp" "$d/data/user_files" "$d/log"
    {
    cat <<X
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_port>$inter</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>256</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>50</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>67108864</mark_cache_size>
  <path>$d/data/</path>
  <tmp_path>$d/data/tmp/</tmp_path>
  <user_files_path>$d/data/user_files/</user_files_path>
  <format_schema_path>$d/data/format_schemas/</format_schema_path>
  <users_config>$d/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mlock_executable>false</mlock_executable>
  <remote_servers><kalens_test>
X
    local line
    while read -r line; do
        set -- $line
        printf '    <shard><replica><host>127.0.0.1</host><port>%s</port></replica></shard>\n' "$2"
    done < "$dir/servers"
    cat <<X
  </kalens_test></remote_servers>
</yandex>
X
    } > "$d/config.xml"
    cat > "$d/users.xml" <<X
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <kalens><password>s3cret</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></kalens>
  </users>
  <quotas><default></default></quotas>
</yandex>
X
}
launch() {  # i: start server i, wait until it answers
    local i=$1 d="$dir/s$1" http
    http=$(sed -n "$((i + 1))p" "$dir/servers" | cut -d' ' -f1)
    clickhouse-server --config-file="$d/config.xml" > "$d/log/stdout" 2>&1 &
    echo $! > "$d/pid"
    local t
    for t in $(seq 1 300); do
        if curl -fsS "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
            echo "$http $(sed -n "$((i + 1))p" "$dir/servers" | cut -d' ' -f2) $(cat "$d/pid")"
            return 0
        fi
        kill -0 "$(cat "$d/pid")" 2>/dev/null || { cat "$d/log/stdout" "$d/log/error.log" >&2 2>/dev/null; return 1; }
        sleep 0.1
    done
    echo "clickhouse server $i did not answer on port $http" >&2
    return 1
}
case $cmd in
start)
    n=${3:-2}
    mkdir -p "$dir"
    : > "$dir/servers"
    for i in $(seq 0 $((n - 1))); do
        echo "$(free_port) $(free_port) $(free_port)" >> "$dir/servers"
    done
    for i in $(seq 0 $((n - 1))); do
        config "$i" $(sed -n "$((i + 1))p" "$dir/servers")
    done
    for i in $(seq 0 $((n - 1))); do launch "$i"; done
    ;;
restart)
    launch "$3"
    ;;
stop)
    for p in "$dir"/s*/pid; do
        [[ -f $p ]] || continue
        kill "$(cat "$p")" 2>/dev/null || true
    done
    for p in "$dir"/s*/pid; do
        [[ -f $p ]] || continue
        for _ in $(seq 1 100); do kill -0 "$(cat "$p")" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$(cat "$p")" 2>/dev/null || true
        rm -f "$p"
    done
    ;;
*) echo "usage: $0 start DIR [N] | stop DIR | restart DIR I" >&2; exit 2 ;;
esac
