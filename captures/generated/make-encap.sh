#!/usr/bin/env bash
# Generate captures of HTTP inside tunnels and on link types other than
# Ethernet, into captures/generated/encap/:
#  - vxlan-kernel: real Linux VXLAN (`ip link add ... type vxlan`) between two
#    network namespaces joined by a veth pair; nginx in one, curl in the
#    other, tcpdump on the underlay veth.  The kernel here has VXLAN but no
#    GRE, GENEVE, ERSPAN, ipip or sit modules, so
#  - every other capture wraps the packets of a real loopback capture (curl
#    to nginx, keep-alive, made here) in the tunnel or link header with
#    python3-scapy (encap-wrap.py): GENEVE, GRE (key, sequence), GRE
#    transparent Ethernet, ERSPAN I/II/III, GTP-U, 4in4, 6in4, 4in6, 6in6, GRE
#    over IPv6 carrying VXLAN, one connection whose two directions were
#    mirrored by two switches (ERSPAN sessions 1 and 2), the same traffic
#    mirrored in two VXLAN VNIs, and 802.11 (radiotap, PPI, Prism, AVS,
#    plain), PPP, PPP in HDLC, Cisco HDLC, Frame Relay, PKTAP, IPNET, IPoIB.
# Each <name>.pcap has <name>.client.tsv: curl's own record (-w) of the
# requests inside.  tests/tools/encap-references.py then writes tshark's
# reading into tests/expected/encap/.
#
# Run as root on Debian 12 with:
#   apt-get install tcpdump nginx-light curl iproute2 python3 python3-scapy tshark
# Usage: captures/generated/make-encap.sh
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/encap
mkdir -p "$out"
all_scenarios=(base)
source "$(dirname "$out")/common.sh"
here=$(dirname "$out")
PY=/usr/bin/python3          # Debian's, which has scapy

curl_fmt='curl\t%{url_effective}\t%{local_ip}\t%{local_port}\t%{remote_ip}\t%{remote_port}\t%{num_connects}\t%{http_code}\t%{size_download}\t%{size_header}\t%{exitcode}\n'
curl_hdr=$'tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_code\tsize_download\tsize_header\texitcode'

# --- the base traffic: curl to nginx on loopback, IPv4 and IPv6 -------------
p=$(free_port 127.0.0.1)
nginx_start "server { listen 127.0.0.1:$p; listen [::1]:$p; keepalive_timeout 30s; }"
wait_port 127.0.0.1 "$p"

for v in 4 6; do
    host=127.0.0.1; [[ $v == 6 ]] && host='[::1]'
    log "base IPv$v: 3 URLs on one connection, then 2 on another"
    start_capture "$work/base$v.pcap" "$p"
    { printf '%s\n' "$curl_hdr"
      curl -g -s -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
          "http://$host:$p/small.html" "http://$host:$p/small.html?1" "http://$host:$p/small.html?2"
      curl -g -s -o /dev/null -o /dev/null -w "$curl_fmt" \
          "http://$host:$p/small.html?3" "http://$host:$p/small.html?4"
    } > "$work/base$v.client.tsv"
    stop_capture
done

# --- the wrapped captures -----------------------------------------------------
"$PY" "$here/encap-wrap.py" "$work/base4.pcap" "$work/base6.pcap" "$out"
for f in "$out"/*.pcap; do
    n=$(basename "$f" .pcap)
    [[ $n == vxlan-kernel ]] && continue
    v=4; [[ $n == ipip-6in4 || $n == ipip-6in6 ]] && v=6
    copies=1; [[ $n == vxlan-two-vni ]] && copies=2
    { printf '# client record for %s.pcap: curl to nginx on loopback (IPv%s), wrapped by encap-wrap.py%s\n' \
          "$n" "$v" "$([[ $copies == 2 ]] && echo '; the traffic is in the capture twice, once per VNI')"
      cat "$work/base$v.client.tsv"
      [[ $copies == 2 ]] && tail -n +2 "$work/base$v.client.tsv"
      true
    } > "$out/$n.client.tsv"
done

# --- real Linux VXLAN between two network namespaces --------------------------
name=vxlan-kernel
if ip netns add kalens-enc-c 2>/dev/null; then
    log "$name"
    ns_cleanup() { ip netns del kalens-enc-c 2>/dev/null || true; ip netns del kalens-enc-s 2>/dev/null || true; }
    trap 'ns_cleanup; cleanup' EXIT
    ip netns add kalens-enc-s
    ip link add kenc-c type veth peer name kenc-s
    ip link set kenc-c netns kalens-enc-c
    ip link set kenc-s netns kalens-enc-s
    for side in c s; do
        ns=kalens-enc-$side
        under=192.0.2.1; peer=192.0.2.2; over=198.51.100.1
        [[ $side == s ]] && { under=192.0.2.2; peer=192.0.2.1; over=198.51.100.2; }
        ip -n $ns link set lo up
        ip -n $ns addr add $under/24 dev kenc-$side
        ip -n $ns link set kenc-$side up
        ip -n $ns link add vx0 type vxlan id 4242 remote $peer local $under dstport 4789 dev kenc-$side
        ip -n $ns addr add $over/24 dev vx0
        ip -n $ns link set vx0 up
    done
    mkdir -p "$work/nginx-ns/logs"
    sed -e "s|$work/nginx|$work/nginx-ns|g" -e "s|listen 127.0.0.1:$p; listen \[::1\]:$p;|listen 198.51.100.2:80;|" \
        "$work/nginx/nginx.conf" > "$work/nginx-ns/nginx.conf"
    ip netns exec kalens-enc-s nginx -p "$work/nginx-ns" -e "$work/nginx-ns/logs/error.log" \
        -c "$work/nginx-ns/nginx.conf" -g 'daemon off;' &
    pids+=("$!")
    for i in $(seq 1 50); do
        ip netns exec kalens-enc-c curl -s -o /dev/null http://198.51.100.2/small.html?warmup 2>/dev/null && break
        sleep 0.2
    done
    rm -f "$out/$name.pcap"
    ip netns exec kalens-enc-c tcpdump -i kenc-c -w "$out/$name.pcap" -s 0 -U 'udp port 4789' \
        2>"$work/tcpdump-ns.err" &
    tp=$!; pids+=("$tp")
    for i in $(seq 1 50); do grep -qs 'listening on' "$work/tcpdump-ns.err" && break; sleep 0.1; done
    sleep 0.3
    { printf '# client record for %s.pcap: curl in a network namespace to nginx in another, over Linux VXLAN (VNI 4242, UDP 4789) on a veth pair\n' "$name"
      printf '%s\n' "$curl_hdr"
      ip netns exec kalens-enc-c curl -s -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
          http://198.51.100.2/small.html http://198.51.100.2/small.html?1 http://198.51.100.2/small.html?2
    } > "$out/$name.client.tsv"
    sleep 1
    kill -INT "$tp"; wait "$tp" || true
    ns_cleanup
else
    log "$name: cannot make network namespaces here; kept the committed capture"
fi
log "done: $(ls "$out"/*.pcap | wc -l) captures in $out"
