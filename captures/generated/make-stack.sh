#!/usr/bin/env bash
# Generate captures of stacked protocols made by real software on loopback:
# TLS and HTTP inside an HTTP CONNECT tunnel, HTTP and TLS after a SOCKS5 /
# SOCKS4a handshake, TLS after STARTTLS in SMTP, IMAP, POP3 and FTP, and the
# refusals (CONNECT answered 500, SOCKS5 answered "connection refused",
# STARTTLS answered 454).  Each scenario writes into captures/generated/stack/:
# <name>.pcap, <name>.keylog where TLS is used (curl: SSLKEYLOGFILE;
# s_client: -keylogfile) and <name>.client.tsv, the client's own record.
#
# Run as root on Debian 12 with:
#   apt-get install tcpdump nginx-light curl openssl python3 coreutils \
#       tinyproxy dante-server openssh-server openssh-client \
#       exim4-daemon-light swaks libnet-ssleay-perl \
#       dovecot-imapd dovecot-pop3d vsftpd
# (tshark for tests/tools/stack-references.py and check-stack-records.py)
# Usage: captures/generated/make-stack.sh [SCENARIO...]   no SCENARIO: all
#        captures/generated/make-stack.sh --list          prints the names
# Then:  tests/tools/stack-references.py    (tshark references, tests/expected/stack/)
#        tests/tools/check-stack-records.py (client records vs tshark)
#
# Servers, each with a private configuration in the work directory, all on
# 127.0.0.1 on ports picked free at run time, started only when a selected
# scenario needs them, stopped by their PID:
#  - nginx 1.22 (HTTP, and HTTPS with a self-signed certificate made here),
#  - tinyproxy 1.11 (HTTP forward proxy: CONNECT),
#  - danted 1.4 (Dante SOCKS v4/v5 server; it answers SOCKS4a requests with
#    "rejected", so SOCKS4a goes through OpenSSH's `ssh -D` instead, to a
#    private sshd),
#  - exim 4.96 (`exim -C CONF -bdf`; two ports: one offers STARTTLS, the
#    other answers it with 454 by an ACL),
#  - dovecot 2.3 (`dovecot -F -c CONF`: IMAP and POP3 with STARTTLS/STLS),
#  - vsftpd 3.0 (AUTH TLS).
# Clients: curl 7.88 (-w record, -v for the proxy and TLS lines),
# openssl s_client -starttls (-debug: the plaintext exchange before TLS as it
# wrote and read it; -brief: protocol and suite; the decrypted replies it
# printed), swaks (its transcript).  Loops are bounded.
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stack
mkdir -p "$out"

all_scenarios=(connect-proxy-https connect-proxy-http-inside connect-refused
               socks5-http socks5-https socks4a-http socks5-refused
               smtp-starttls smtp-starttls-refused imap-starttls pop3-starttls
               ftp-auth-tls)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

want_any() {  # any of the named scenarios selected?
    local s
    for s in "$@"; do want "$s" && return 0; done
    return 1
}

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
p_closed=$(free_port 127.0.0.1)   # nothing listens there: the refused targets

# --- nginx: HTTP and HTTPS (TLS 1.2 and 1.3) -----------------------------------
if want_any connect-proxy-https connect-proxy-http-inside socks5-http socks5-https socks4a-http; then
    p_http=$(free_port 127.0.0.1)
    p_https=$(free_port 127.0.0.1)
    nginx_start "    keepalive_timeout 5s;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    server { listen 127.0.0.1:$p_http; }
    server { listen 127.0.0.1:$p_https ssl; }"
    log "nginx on 127.0.0.1:$p_http (HTTP), 127.0.0.1:$p_https (HTTPS)"
    wait_port 127.0.0.1 "$p_http"
    wait_port 127.0.0.1 "$p_https"
fi

# --- tinyproxy: HTTP forward proxy (CONNECT to any port) ------------------------
if want_any connect-proxy-https connect-proxy-http-inside connect-refused; then
    p_proxy=$(free_port 127.0.0.1)
    mkdir -p "$work/tinyproxy"
    cat > "$work/tinyproxy/tinyproxy.conf" <<EOF
Port $p_proxy
Listen 127.0.0.1
Timeout 30
MaxClients 16
LogLevel Info
LogFile "$work/tinyproxy/tinyproxy.log"
PidFile "$work/tinyproxy/tinyproxy.pid"
Allow 127.0.0.1
EOF
    tinyproxy -d -c "$work/tinyproxy/tinyproxy.conf" > "$work/tinyproxy/out.log" 2>&1 &
    pids+=("$!")
    log "tinyproxy on 127.0.0.1:$p_proxy"
    wait_port 127.0.0.1 "$p_proxy"
fi

# --- danted: SOCKS5 --------------------------------------------------------------
# On 1080, SOCKS's own port, when it is free: tshark 4.0 decrypts TLS after a
# SOCKS handshake only there (on another port it reads the records but
# decrypts none, with or without decode-as).
port_is_free() {  # $1 = port on 127.0.0.1
    python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.close()" "$1" 2>/dev/null
}
if want_any socks5-http socks5-https socks5-refused; then
    if port_is_free 1080; then
        p_socks5=1080
    else
        p_socks5=$(free_port 127.0.0.1)
        log "port 1080 is busy: danted on $p_socks5 (tshark will not decrypt socks5-https)"
    fi
    mkdir -p "$work/danted"
    cat > "$work/danted/danted.conf" <<EOF
logoutput: $work/danted/danted.log
internal: 127.0.0.1 port = $p_socks5
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.1/32 to: 0.0.0.0/0 }
socks pass {
    from: 127.0.0.1/32 to: 127.0.0.1/32
    command: connect
    log: connect error
}
EOF
    danted -f "$work/danted/danted.conf" -p "$work/danted/danted.pid" -N 1 \
        > "$work/danted/out.log" 2>&1 &
    pids+=("$!")
    log "danted (SOCKS5) on 127.0.0.1:$p_socks5"
    wait_port 127.0.0.1 "$p_socks5"
fi

# --- sshd + ssh -D: SOCKS4a (Dante rejects SOCKS4a requests) --------------------
if want socks4a-http; then
    p_sshd=$(free_port 127.0.0.1)
    p_socks4=$(free_port 127.0.0.1)
    s="$work/ssh"
    mkdir -p "$s" /run/sshd     # /run/sshd: sshd's compiled-in privilege separation directory
    ssh-keygen -q -t ed25519 -N '' -f "$s/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$s/client_key"
    cp "$s/client_key.pub" "$s/authorized_keys"
    cat > "$s/sshd_config" <<EOF
ListenAddress 127.0.0.1:$p_sshd
HostKey $s/host_key
PidFile $s/sshd.pid
AuthorizedKeysFile $s/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
EOF
    /usr/sbin/sshd -D -e -f "$s/sshd_config" > "$s/sshd.log" 2>&1 &
    pids+=("$!")
    wait_port 127.0.0.1 "$p_sshd"
    ssh -F /dev/null -N -D "127.0.0.1:$p_socks4" -p "$p_sshd" -i "$s/client_key" \
        -o BatchMode=yes -o ExitOnForwardFailure=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile="$s/known_hosts" -o GlobalKnownHostsFile=/dev/null \
        root@127.0.0.1 > "$s/ssh.log" 2>&1 &
    pids+=("$!")
    log "sshd on 127.0.0.1:$p_sshd, ssh -D (SOCKS4/4a/5) on 127.0.0.1:$p_socks4"
    wait_port 127.0.0.1 "$p_socks4"
fi

# --- exim: SMTP with STARTTLS, and a port where STARTTLS is refused (454) ---------
if want_any smtp-starttls smtp-starttls-refused; then
    p_smtp=$(free_port 127.0.0.1)
    p_smtp_refuse=$(free_port 127.0.0.1)
    e="$work/exim"
    mkdir -p "$e/spool" "$e/log"
    cat > "$e/exim.conf" <<EOF
primary_hostname = mail.localhost
daemon_smtp_ports = $p_smtp : $p_smtp_refuse
local_interfaces = 127.0.0.1
spool_directory = $e/spool
log_file_path = $e/log/%slog
pid_file_path = $e/exim.pid
notifier_socket =
keep_environment =
exim_user = root
exim_group = root
never_users =
tls_advertise_hosts = *
tls_certificate = $work/cert.pem
tls_privatekey = $work/key.pem
acl_smtp_starttls = acl_check_starttls
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_starttls:
  defer condition = \${if =={\$received_port}{$p_smtp_refuse}}
        message = 454 4.7.0 TLS not available due to local policy
  accept
acl_check_rcpt:
  deny
EOF
    exim -C "$e/exim.conf" -bdf -oP "$e/exim.pid" > "$e/out.log" 2>&1 &
    pids+=("$!")
    log "exim on 127.0.0.1:$p_smtp (STARTTLS) and 127.0.0.1:$p_smtp_refuse (STARTTLS answered 454)"
    wait_port 127.0.0.1 "$p_smtp"
    wait_port 127.0.0.1 "$p_smtp_refuse"
fi

# --- dovecot: IMAP (STARTTLS) and POP3 (STLS) --------------------------------------
if want_any imap-starttls pop3-starttls; then
    p_imap=$(free_port 127.0.0.1)
    p_pop3=$(free_port 127.0.0.1)
    d="$work/dovecot"
    mkdir -p "$d/run" "$d/state" "$d/home"
    cat > "$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
instance_name = kalens-dovecot
listen = 127.0.0.1
protocols = imap pop3
ssl = yes
ssl_cert = <$work/cert.pem
ssl_key = <$work/key.pem
disable_plaintext_auth = yes
mail_location = mbox:~/mail:INBOX=/dev/null
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $p_imap
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $p_pop3
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
    dovecot -F -c "$d/dovecot.conf" > "$d/out.log" 2>&1 &
    pids+=("$!")
    log "dovecot on 127.0.0.1:$p_imap (IMAP), 127.0.0.1:$p_pop3 (POP3)"
    wait_port 127.0.0.1 "$p_imap"
    wait_port 127.0.0.1 "$p_pop3"
fi

# --- vsftpd: FTP with AUTH TLS ------------------------------------------------------
if want ftp-auth-tls; then
    p_ftp=$(free_port 127.0.0.1)
    f="$work/vsftpd"
    mkdir -p "$f/empty"
    cat > "$f/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$p_ftp
background=NO
anonymous_enable=YES
anon_root=$f/empty
local_enable=NO
write_enable=NO
secure_chroot_dir=$f/empty
pasv_enable=NO
ssl_enable=YES
allow_anon_ssl=YES
require_ssl_reuse=NO
rsa_cert_file=$work/cert.pem
rsa_private_key_file=$work/key.pem
vsftpd_log_file=$f/vsftpd.log
EOF
    vsftpd "$f/vsftpd.conf" > "$f/out.log" 2>&1 &
    pids+=("$!")
    log "vsftpd on 127.0.0.1:$p_ftp"
    wait_port 127.0.0.1 "$p_ftp"
fi

# --- curl through a proxy -------------------------------------------------------------
curl_fmt='curl\t%{url_effective}\t%{local_ip}\t%{local_port}\t%{remote_ip}\t%{remote_port}\t%{num_connects}\t%{http_connect}\t%{http_code}\t%{size_download}\t%{size_header}\t%{ssl_verify_result}\t%{exitcode}\t%{errormsg}\n'
curl_hdr=$'tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_connect\thttp_code\tsize_download\tsize_header\tssl_verify_result\texitcode\terrormsg'

iana() {  # $1 = an OpenSSL suite name: its IANA number (0x....), by openssl ciphers -V
    openssl ciphers -V 'ALL:@SECLEVEL=0' | awk -v s="$1" '$3 == s { print $1 }' |
        sed 's/0x//; s/,0x//; s/^/0x/' | tr 'A-F' 'a-f'
}

# "tls <version> <suite> <IANA number>" rows, one per TLS connection, from
# curl -v's "SSL connection using <version> / <suite>" lines.
tls_rows() {  # $1 = curl's stderr
    local v s
    grep -o 'SSL connection using [^ ]* / [^ ]*' "$1" | while read -r _ _ _ v _ s; do
        printf 'tls\t%s\t%s\t%s\n' "$v" "$s" "$(iana "$s")"
    done
}

# "proxy <kind> <target> <result>" rows, one per proxy negotiation, from
# curl -v: "Establish HTTP proxy tunnel to T" + "CONNECT tunnel established,
# response N" / "CONNECT tunnel failed, response N"; "SOCKS5 connect to IPv4
# T (locally resolved)" / "SOCKS5 connect to T (remotely resolved)" /
# "SOCKS4 communication to T" + "SOCKS5 request granted." / "SOCKS4a request
# granted." / "Can't complete SOCKS5 connection to H. (N)".
proxy_rows() {  # $1 = curl's stderr
    python3 - "$1" <<'EOF'
import re, sys
kind = target = None
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\n")
    for pat, k in ((r"\* Establish HTTP proxy tunnel to (\S+)", "CONNECT"),
                   (r"\* SOCKS5 connect to IPv4 (\S+) \(locally resolved\)", "SOCKS5"),
                   (r"\* SOCKS5 connect to (\S+) \(remotely resolved\)", "SOCKS5-hostname"),
                   (r"\* SOCKS4a? communication to (\S+)", "SOCKS4a")):
        m = re.match(pat, line)
        if m:
            kind, target = k, m.group(1)
    if kind is None:
        continue
    m = re.match(r"\* CONNECT tunnel (?:established|failed), response (\d+)", line)
    r = m.group(1) if m else None
    if re.match(r"\* SOCKS[45]a? request granted", line):
        r = "granted"
    m = re.match(r"\* Can't complete SOCKS[45]a? connection to .*\((\d+)\)", line)
    if m:
        r = "refused(%s)" % m.group(1)
    if r:
        print("proxy\t%s\t%s\t%s" % (kind, target, r))
        kind = target = None
EOF
}

# One curl run through a proxy: $1 name, $2 captured (proxy) port, $3 description,
# $4 number of URLs, then the URLs, then "--" and curl's options.
curl_scenario() {
    local name=$1 port=$2 what=$3 n=$4
    shift 4
    want "$name" || return 0
    log "$name"
    local urls=() outs=() i
    for ((i = 0; i < n; i++)); do urls+=("$1"); outs+=(-o /dev/null); shift; done
    [[ $1 == -- ]] && shift
    local rec="$out/$name.client.tsv" keylog=()
    rm -f "$out/$name.keylog"
    [[ ${urls[0]} == https:* ]] && keylog=(env "SSLKEYLOGFILE=$out/$name.keylog")
    start_capture "$out/$name.pcap" "$port"
    "${keylog[@]}" curl -sv -k "$@" "${outs[@]}" -w "$curl_fmt" "${urls[@]}" \
        > "$work/$name.rows" 2> "$work/$name.err" || true
    stop_capture
    [[ -s $out/$name.keylog ]] || rm -f "$out/$name.keylog"   # no TLS reached
    { printf '# client record for %s.pcap: %s\n' "$name" "$what"
      printf '%s\n' "$curl_hdr"
      cat "$work/$name.rows"
      printf 'tool\tkind\ttarget\tresult\n'
      proxy_rows "$work/$name.err"
      if grep -q 'SSL connection using' "$work/$name.err"; then
          printf 'tool\tversion\tsuite\tiana\n'
          tls_rows "$work/$name.err"
      fi; } > "$rec"
}

if want_any connect-proxy-https connect-proxy-http-inside connect-refused; then
    curl_scenario connect-proxy-https "$p_proxy" \
        "curl -p (--proxytunnel) through tinyproxy: one CONNECT tunnel to nginx HTTPS (TLS 1.3, SNI localhost), 3 requests on it" \
        3 "https://localhost:$p_https/small.html" "https://localhost:$p_https/missing.html" \
        "https://localhost:$p_https/small.html" -- -p -x "http://127.0.0.1:$p_proxy"
    curl_scenario connect-proxy-http-inside "$p_proxy" \
        "curl -p (--proxytunnel) through tinyproxy to an http:// URL: one CONNECT tunnel carrying plain HTTP/1.1, 2 requests on it" \
        2 "http://localhost:$p_http/small.html" "http://localhost:$p_http/missing.html" \
        -- -p -x "http://127.0.0.1:$p_proxy"
    curl_scenario connect-refused "$p_proxy" \
        "curl -p through tinyproxy to a closed port: tinyproxy answers the CONNECT with 500 and closes; curl exits 56" \
        1 "https://localhost:$p_closed/small.html" -- -p -x "http://127.0.0.1:$p_proxy"
fi
if want_any socks5-http socks5-https socks5-refused; then
    curl_scenario socks5-http "$p_socks5" \
        "curl --socks5 (the client resolves localhost, IPv4 address in the request) through danted to nginx HTTP, 2 requests on one connection" \
        2 "http://localhost:$p_http/small.html" "http://localhost:$p_http/missing.html" \
        -- --socks5 "127.0.0.1:$p_socks5"
    curl_scenario socks5-https "$p_socks5" \
        "curl --socks5-hostname (the name localhost in the request) through danted to nginx HTTPS, TLS 1.2 (--tls-max 1.2), 3 requests on one connection" \
        3 "https://localhost:$p_https/small.html" "https://localhost:$p_https/missing.html" \
        "https://localhost:$p_https/small.html" -- --socks5-hostname "127.0.0.1:$p_socks5" --tls-max 1.2
    curl_scenario socks5-refused "$p_socks5" \
        "curl --socks5 through danted to a closed port: danted answers the request with reply 5 (connection refused); curl exits 97" \
        1 "http://localhost:$p_closed/small.html" -- --socks5 "127.0.0.1:$p_socks5"
fi
if want socks4a-http; then
    curl_scenario socks4a-http "$p_socks4" \
        "curl --socks4a (the name localhost in the request) through ssh -D to nginx HTTP, 2 requests on one connection" \
        2 "http://localhost:$p_http/small.html" "http://localhost:$p_http/missing.html" \
        -- --socks4a "127.0.0.1:$p_socks4"
fi

# --- openssl s_client -starttls ---------------------------------------------------------
# Its -debug output (run unbuffered, so the dumps and the decrypted data it
# prints stay in order) holds every byte it wrote and read on the socket: the
# plaintext exchange before TLS is read from it, and the ClientHello it wrote
# (the SNI it sent).  After TLS: the lines the script wrote, and the reply
# lines s_client printed.  -brief prints protocol and suite on stderr.
cat > "$work/sclient_record.py" <<'EOF'
import re, sys

proto, out, err, rc, sent = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]

events, cur = [], None          # ["R"|"W", bytearray, expected] or ["T", line]
for line in open(out, encoding="latin-1").read().split("\n"):
    m = re.match(r"^(read from|write to) 0x[0-9a-f]+ \[0x[0-9a-f]+\] \(\d+ bytes => (-?\d+)", line)
    if m:
        cur = ["R" if m.group(1) == "read from" else "W", bytearray(), max(0, int(m.group(2)))]
        events.append(cur)
        continue
    if cur is not None and len(cur[1]) < cur[2] and re.match(r"^[0-9a-f]{4} - [0-9a-f]{2}", line):
        hx = line[7:55].replace("-", " ").split()
        cur[1] += bytes.fromhex("".join(hx))[: cur[2] - len(cur[1])]
        continue
    cur = None
    events.append(["T", line.rstrip("\r")])


def status(text, tag=None):
    """The reply code of one server reply: SMTP/FTP the code of its final
    line, IMAP the status of its tagged line (of the greeting: untagged),
    POP3 the indicator of its first line."""
    lines = [l for l in text.replace("\r", "").split("\n") if l]
    if proto == "pop3":
        m = re.match(r"^(\+OK|-ERR)", lines[0]) if lines else None
        return m.group(1) if m else "?"
    for l in reversed(lines):
        if proto in ("smtp", "ftp"):
            m = re.match(r"^(\d{3}) ", l)
            if m:
                return m.group(1)
        else:
            m = re.match(r"^(\S+) (OK|NO|BAD|PREAUTH|BYE)\b", l)
            if m and (tag is None or m.group(1) == tag):
                return m.group(2)
    return "?"


def verb(cmd):
    """What the exchange rows call a command: SMTP/POP3/FTP verbs with their
    arguments as written; for IMAP the tag is dropped."""
    return cmd.split(" ", 1)[1] if proto == "imap" else cmd


rows = []          # (phase, command, reply)
hello = None
pending, reply = "(connect)", ""
for ev in events:
    if ev[0] == "W":
        if ev[1][:1] == b"\x16":
            hello = bytes(ev[1])
            break
        rows.append(("plain", pending, reply))
        pending, reply = ev[1].decode("latin-1").rstrip("\r\n"), ""
    elif ev[0] == "R":
        reply += ev[1].decode("latin-1")
rows.append(("plain", pending, reply))
plain = []
for phase, cmd, rep in rows:
    tag = cmd.split(" ", 1)[0] if proto == "imap" and cmd != "(connect)" else None
    plain.append((phase, cmd if cmd == "(connect)" else verb(cmd), status(rep, tag)))

sni = ""
if hello:
    b = hello[5:]
    p = 4 + 2 + 32
    p += 1 + b[p]
    p += 2 + int.from_bytes(b[p:p + 2], "big")
    p += 1 + b[p]
    end = p + 2 + int.from_bytes(b[p:p + 2], "big")
    p += 2
    while p + 4 <= end:
        t, n = int.from_bytes(b[p:p + 2], "big"), int.from_bytes(b[p + 2:p + 4], "big")
        if t == 0:
            sni = b[p + 9:p + 9 + int.from_bytes(b[p + 7:p + 9], "big")].decode()
        p += 4 + n

# replies s_client printed after the handshake: the status lines
after = False
seen = []
for ev in events:
    if ev[0] == "W" and ev[1][:1] == b"\x16":
        after = True
    if not after or ev[0] != "T":
        continue
    l = ev[1]
    if proto in ("smtp", "ftp"):
        m = re.match(r"^(\d{3}) ", l)
        if m:
            seen.append(m.group(1))
    elif proto == "imap":
        m = re.match(r"^(a\d+) (OK|NO|BAD)\b", l)
        if m:
            seen.append(m.group(2))
    elif proto == "pop3":
        m = re.match(r"^(\+OK|-ERR)\b", l)
        if m:
            seen.append(m.group(1))
tls = [("tls", verb(c), seen[i] if i < len(seen) else "") for i, c in enumerate(sent)]

version = suite = ""
for l in open(err, errors="replace"):
    m = re.match(r"^Protocol version: (\S+)", l)
    version = m.group(1) if m else version
    m = re.match(r"^Ciphersuite: (\S+)", l)
    suite = m.group(1) if m else suite

print("tool\tphase\tcommand\treply")
for r in plain + tls:
    print("s_client\t%s\t%s\t%s" % r)
print("tool\tprotocol\tsuite\tiana\tsni\texitcode")
print("s_client\t%s\t%s\t%%IANA%%\t%s\t%s" % (version, suite, sni, rc))
EOF

feed_lines() {  # $1 = gap seconds, rest: lines written to s_client, CRLF-terminated
    local gap=$1 l
    shift
    sleep 1
    for l in "$@"; do printf '%s\r\n' "$l"; sleep "$gap"; done
    sleep 1
}

# $1 name, $2 port, $3 s_client -starttls protocol, $4 -servername, $5 description,
# $6 extra s_client options (words), rest: lines written after the handshake
sclient_scenario() {
    local name=$1 port=$2 proto=$3 sni=$4 what=$5 opts=$6
    shift 6
    want "$name" || return 0
    log "$name"
    local rec="$out/$name.client.tsv" rc=0
    rm -f "$out/$name.keylog"
    start_capture "$out/$name.pcap" "$port"
    # shellcheck disable=SC2086  # opts are words
    feed_lines 0.5 "$@" | timeout 20 stdbuf -o0 openssl s_client -connect "127.0.0.1:$port" \
        -starttls "$proto" -name client.localhost -servername "$sni" -brief -nocommands -debug \
        -keylogfile "$out/$name.keylog" $opts > "$work/$name.out" 2> "$work/$name.err" || rc=$?
    stop_capture
    local body suite
    body=$(python3 "$work/sclient_record.py" "$proto" "$work/$name.out" "$work/$name.err" "$rc" "$@")
    suite=$(printf '%s\n' "$body" | awk -F'\t' '$1 == "s_client" && NF == 6 { print $3 }')
    { printf '# client record for %s.pcap: %s\n' "$name" "$what"
      printf '%s\n' "${body//%IANA%/$(iana "$suite")}"; } > "$rec"
}

if want smtp-starttls; then
    sclient_scenario smtp-starttls "$p_smtp" smtp mail.localhost \
        "openssl s_client -starttls smtp -name client.localhost -servername mail.localhost against exim: EHLO, STARTTLS, TLS, then EHLO and QUIT inside TLS" \
        "" "EHLO client.localhost" "QUIT"
fi
if want imap-starttls; then
    sclient_scenario imap-starttls "$p_imap" imap imap.localhost \
        "openssl s_client -starttls imap -tls1_2 -servername imap.localhost against dovecot: CAPABILITY, STARTTLS, TLS 1.2, then a1 CAPABILITY and a2 LOGOUT inside TLS" \
        "-tls1_2" "a1 CAPABILITY" "a2 LOGOUT"
fi
if want pop3-starttls; then
    sclient_scenario pop3-starttls "$p_pop3" pop3 pop.localhost \
        "openssl s_client -starttls pop3 -servername pop.localhost against dovecot: STLS, TLS, then CAPA and QUIT inside TLS" \
        "" "CAPA" "QUIT"
fi
if want ftp-auth-tls; then
    sclient_scenario ftp-auth-tls "$p_ftp" ftp ftp.localhost \
        "openssl s_client -starttls ftp -servername ftp.localhost against vsftpd: AUTH TLS, TLS, then FEAT and QUIT inside TLS (vsftpd closes without close_notify: s_client exits 1)" \
        "" "FEAT" "QUIT"
fi

# --- swaks: STARTTLS refused -------------------------------------------------------------
# swaks --tls-optional sends STARTTLS (exim advertises it), reads 454, goes
# on without TLS and ends with QUIT.  Its transcript: "<-  " / "<** " server
# lines, " -> " client lines.
name=smtp-starttls-refused
if want "$name"; then
    log "$name"
    rec="$out/$name.client.tsv"
    rc=0
    start_capture "$out/$name.pcap" "$p_smtp_refuse"
    swaks --server "127.0.0.1:$p_smtp_refuse" --helo client.localhost --from client@localhost \
        --to postmaster@localhost --tls-optional --quit-after tls > "$work/$name.out" 2>&1 < /dev/null || rc=$?
    stop_capture
    { printf '# client record for %s.pcap: swaks --tls-optional --quit-after tls against exim, whose ACL answers STARTTLS with 454: swaks goes on without TLS and sends QUIT (exit %s)\n' "$name" "$rc"
      printf '# STARTTLS advertised in the EHLO reply: %s\n' "$(grep -q '^<-  250[- ]STARTTLS' "$work/$name.out" && echo yes || echo no)"
      printf 'tool\tphase\tcommand\treply\n'
      python3 - "$work/$name.out" <<'EOF'
import re, sys
rows, cmd, last = [], "(connect)", ""
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\n")
    m = re.match(r"^ -> (.*)$", line)
    if m:
        rows.append((cmd, last))
        cmd, last = m.group(1), ""
        continue
    m = re.match(r"^<(?:-|\*\*) +(\d{3})[ -]", line)
    if m:
        last = m.group(1)
rows.append((cmd, last))
for c, r in rows:
    print("swaks\tplain\t%s\t%s" % (c, r))
EOF
    } > "$rec"
fi

ls -l "$out" >&2
