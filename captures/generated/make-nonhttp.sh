#!/usr/bin/env bash
# Generate captures of text protocols that are not HTTP, made by real
# software on loopback: what the HTTP/1 probe must leave alone (docs/
# stacking.md, "Recognising a protocol").  Each scenario writes into
# captures/generated/nonhttp/: <name>.pcap and <name>.client.tsv, the
# client's own record (its command, exit status, and the lines it sent and
# read as it printed them).
#
# Run as root on Debian 12 with:
#   apt-get install tcpdump curl python3 coreutils vsftpd \
#       exim4-daemon-light swaks dovecot-imapd dovecot-pop3d ngircd
# (tshark, editcap for the mid-stream cut, and for
#  tests/tools/nonhttp-references.py)
# Usage: captures/generated/make-nonhttp.sh [SCENARIO...]   no SCENARIO: all
#        captures/generated/make-nonhttp.sh --list          prints the names
# Then:  tests/tools/nonhttp-references.py   (tshark references, tests/expected/nonhttp/)
#
# Servers, each with a private configuration in the work directory, all on
# 127.0.0.1 on ports picked free at run time, started only when a selected
# scenario needs them, stopped by their PID:
#  - vsftpd 3.0 (anonymous FTP, passive data connections on one port picked
#    free, no TLS),
#  - exim 4.96 (`exim -C CONF -bdf`, no STARTTLS offered, mail accepted and
#    left in its private queue),
#  - dovecot 2.3 (`dovecot -F -c CONF`: IMAP and POP3 without TLS, a static
#    password),
#  - ngircd 26 (`ngircd -n -f CONF`, IRC).
# Clients: curl 7.88 (ftp://, imap://, pop3://; -v for the lines it sent
# and read), swaks (its transcript), and for IRC, which has no scriptable
# client in Debian, a python3 raw-socket client (its own log).  One capture
# is cut from another with editcap: smtp-swaks-midstream is smtp-swaks from
# the client's EHLO on (no handshake, no greeting): a capture that begins
# inside a connection.  Loops are bounded.
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/nonhttp
mkdir -p "$out"

all_scenarios=(ftp-curl smtp-swaks smtp-swaks-midstream imap-curl pop3-curl irc-python)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

want_any() {  # any of the named scenarios selected?
    local s
    for s in "$@"; do want "$s" && return 0; done
    return 1
}

# curl -v lines: "> " what it sent, "< " what it read; the record keeps them.
curl_lines() {  # $1 = curl's stderr
    grep -E '^[<>] ' "$1" | tr -d '\r' | sed 's/^> /sent\t/; s/^< /read\t/' | sed 's/^/curl\t/'
}

# $1 name, $2 captured ports (tcpdump filter), $3 description, rest: curl's arguments
curl_scenario() {
    local name=$1 filter=$2 what=$3
    shift 3
    want "$name" || return 0
    log "$name"
    local rc=0
    start_capture_filter "$out/$name.pcap" "$filter"
    curl -sv "$@" > "$work/$name.body" 2> "$work/$name.err" || rc=$?
    stop_capture
    { printf '# client record for %s.pcap: %s\n' "$name" "$what"
      printf '# curl %s\n' "$*"
      printf 'tool\texitcode\tbody_bytes\n'
      printf 'curl\t%s\t%s\n' "$rc" "$(wc -c < "$work/$name.body")"
      printf 'tool\tdirection\tline\n'
      curl_lines "$work/$name.err"; } > "$out/$name.client.tsv"
}

# tcpdump on lo with any filter (common.sh's start_capture takes one port).
start_capture_filter() {  # $1 = output pcap, $2 = filter
    rm -f "$1"
    cap_err="$work/tcpdump.$(basename "$1").err"
    tcpdump -i lo -w "$1" -s 0 -U -Z root "$2" 2>"$cap_err" &
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

# --- vsftpd: anonymous FTP, passive mode on one port --------------------------------
if want ftp-curl; then
    p_ftp=$(free_port 127.0.0.1)
    p_pasv=$(free_port 127.0.0.1)
    f="$work/vsftpd"
    mkdir -p "$f/empty" "$f/root/pub"
    chmod 555 "$f/root"
    printf 'kalens ftp test file\nGET / HTTP/1.1 is only text here\n' > "$f/root/pub/notes.txt"
    cat > "$f/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$p_ftp
background=NO
anonymous_enable=YES
anon_root=$f/root
no_anon_password=YES
local_enable=NO
write_enable=NO
secure_chroot_dir=$f/empty
pasv_enable=YES
pasv_min_port=$p_pasv
pasv_max_port=$p_pasv
pasv_address=127.0.0.1
ssl_enable=NO
vsftpd_log_file=$f/vsftpd.log
EOF
    vsftpd "$f/vsftpd.conf" > "$f/out.log" 2>&1 &
    pids+=("$!")
    log "vsftpd on 127.0.0.1:$p_ftp (passive data on $p_pasv)"
    wait_port 127.0.0.1 "$p_ftp"
    curl_scenario ftp-curl "tcp port $p_ftp or tcp port $p_pasv" \
        "curl against vsftpd, anonymous: the listing of /pub/ and the file pub/notes.txt on one control connection, each over a passive data connection" \
        "ftp://127.0.0.1:$p_ftp/pub/" "ftp://127.0.0.1:$p_ftp/pub/notes.txt"
fi

# --- exim: SMTP without STARTTLS, mail queued ---------------------------------------
if want_any smtp-swaks smtp-swaks-midstream; then
    p_smtp=$(free_port 127.0.0.1)
    e="$work/exim"
    mkdir -p "$e/spool" "$e/log"
    cat > "$e/exim.conf" <<EOF
primary_hostname = mail.localhost
daemon_smtp_ports = $p_smtp
local_interfaces = 127.0.0.1
spool_directory = $e/spool
log_file_path = $e/log/%slog
pid_file_path = $e/exim.pid
notifier_socket =
keep_environment =
exim_user = root
exim_group = root
never_users =
tls_advertise_hosts =
queue_only = true
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  accept
EOF
    exim -C "$e/exim.conf" -bdf -oP "$e/exim.pid" > "$e/out.log" 2>&1 &
    pids+=("$!")
    log "exim on 127.0.0.1:$p_smtp"
    wait_port 127.0.0.1 "$p_smtp"
    name=smtp-swaks
    log "$name"
    rc=0
    start_capture_filter "$out/$name.pcap" "tcp port $p_smtp"
    swaks --server "127.0.0.1:$p_smtp" --helo client.localhost --from client@localhost \
        --to postmaster@localhost --header 'Subject: GET / HTTP/1.1' \
        --body $'POST /not-a-request HTTP/1.1\nHost: example.org\n\nA mail body that quotes HTTP.' \
        > "$work/$name.out" 2>&1 < /dev/null || rc=$?
    stop_capture
    { printf '# client record for %s.pcap: swaks against exim (no STARTTLS offered): EHLO, MAIL, RCPT, DATA with a body that quotes an HTTP request, QUIT (exit %s)\n' "$name" "$rc"
      printf 'tool\tdirection\tline\n'
      sed -n 's/^ -> /sent\t/p; s/^<-  /read\t/p' "$work/$name.out" | sed 's/^/swaks\t/'; } \
        > "$out/$name.client.tsv"
fi
if want smtp-swaks-midstream; then
    # From the client's first data segment (its EHLO) on: no SYN, no greeting.
    name=smtp-swaks-midstream
    log "$name"
    first=$(tshark -r "$out/smtp-swaks.pcap" -Y "tcp.dstport == $p_smtp && tcp.len > 0" \
        -T fields -e frame.number 2>/dev/null | head -1)
    editcap -r "$out/smtp-swaks.pcap" "$out/$name.pcap" "$first-1000000"
    { printf '# client record for %s.pcap: smtp-swaks.pcap from frame %s (the client'"'"'s EHLO) on, cut with editcap -r: a capture that begins inside the connection\n' "$name" "$first"
      printf 'tool\tdirection\tline\n'
      awk -F'\t' 'NR > 2 && $1 == "swaks"' "$out/smtp-swaks.client.tsv" |
          awk -F'\t' 'seen || ($2 == "sent" && $3 ~ /^EHLO/) { seen = 1; print }'; } \
        > "$out/$name.client.tsv"
fi

# --- dovecot: IMAP and POP3 in clear text ---------------------------------------------
if want_any imap-curl pop3-curl; then
    p_imap=$(free_port 127.0.0.1)
    p_pop3=$(free_port 127.0.0.1)
    d="$work/dovecot"
    mkdir -p "$d/run" "$d/state" "$d/home/mail"
    : > "$d/home/mail/inbox"
    chown -R nobody:nogroup "$d/home"
    cat > "$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
instance_name = kalens-dovecot-nonhttp
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = mbox:~/mail:INBOX=~/mail/inbox
passdb {
  driver = static
  args = password=kalens
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
    curl_scenario imap-curl "tcp port $p_imap" \
        "curl against dovecot IMAP (no TLS), LOGIN alice: LIST "" * and LIST "INBOX" * (the two URLs) on one connection" \
        "imap://alice:kalens@127.0.0.1:$p_imap/" "imap://alice:kalens@127.0.0.1:$p_imap/INBOX"
    curl_scenario pop3-curl "tcp port $p_pop3" \
        "curl against dovecot POP3 (no TLS), USER/PASS alice: LIST" \
        "pop3://alice:kalens@127.0.0.1:$p_pop3/"
fi

# --- ngircd + a python3 raw-socket client ---------------------------------------------
if want irc-python; then
    p_irc=$(free_port 127.0.0.1)
    i="$work/ngircd"
    mkdir -p "$i"
    cat > "$i/ngircd.conf" <<EOF
[Global]
    Name = irc.localhost
    Info = kalens test server
    Listen = 127.0.0.1
    Ports = $p_irc
    MotdPhrase = kalens
[Options]
    PAM = no
    DNS = no
    Ident = no
EOF
    ngircd -n -f "$i/ngircd.conf" > "$i/out.log" 2>&1 &
    pids+=("$!")
    log "ngircd on 127.0.0.1:$p_irc"
    wait_port 127.0.0.1 "$p_irc"
    name=irc-python
    log "$name"
    rc=0
    start_capture_filter "$out/$name.pcap" "tcp port $p_irc"
    timeout 30 python3 - "$p_irc" > "$work/$name.log" 2>&1 <<'EOF' || rc=$?
# An IRC client (RFC 2812): register, join a channel, talk, part, quit.
# Each line it sends and each it reads, as "sent\t..." / "read\t...".
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(0.5)
buf = b""
def read_for(seconds):
    global buf
    end = time.time() + seconds
    while time.time() < end:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        if not d:
            break
        buf += d
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            print("read\t" + line.decode("latin-1"), flush=True)
            if line.startswith(b"PING "):
                send("PONG " + line[5:].decode("latin-1"))
def send(line):
    s.sendall(line.encode() + b"\r\n")
    print("sent\t" + line, flush=True)
send("CAP LS 302")
send("NICK kalens")
send("USER kalens 0 * :kalens test client")
read_for(1.5)
send("CAP END")
send("JOIN #kalens")
read_for(1.0)
send("PRIVMSG #kalens :GET / HTTP/1.1")
send("TOPIC #kalens :OPTIONS * HTTP/1.1")
read_for(1.0)
send("PART #kalens :bye")
send("QUIT :done")
read_for(1.5)
s.close()
EOF
    stop_capture
    { printf '# client record for %s.pcap: a python3 raw-socket IRC client against ngircd: CAP, NICK, USER, JOIN, PRIVMSG and TOPIC with HTTP-looking text, PART, QUIT (exit %s)\n' "$name" "$rc"
      printf 'tool\tdirection\tline\n'
      sed 's/^/python3\t/' "$work/$name.log"; } > "$out/$name.client.tsv"
fi

ls -l "$out" >&2
