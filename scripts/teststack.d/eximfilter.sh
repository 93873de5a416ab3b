# shellcheck shell=bash
# eximfilter: a third Exim 4.96 instance (the binary exim.sh unpacks) that
# routes every message through qscan as an SMTP content filter, set up as
# the README's "Exim" paragraph says:
#
#   exim -bd       127.0.0.1:(2735+offset) for clients and
#                  127.0.0.1:(2737+offset) for qscan's re-injection; a
#                  router sends what did not come in on the second port to
#                  qscan at 127.0.0.1:(2736+offset) (the test's qscan
#                  listens there), the rest goes to the sink
#   -q5s           deferred mail (qscan down) is retried within seconds
#
# Exports: EXF_SMTP, EXF_FILTER (qscan's listen address), EXF_REINJECT,
# EXF_CONF, EXF_SPOOL. Logs: $QSCAN_STACK/exim/log/eximfilter-*.

EXF_CONF=$STACK/exim/eximfilter.conf
EXF_SPOOL=$STACK/exim4.filter
EXF_PORT=$((2735 + PORTS)) EXF_QPORT=$((2736 + PORTS)) EXF_RPORT=$((2737 + PORTS))

eximfilter_packages() { echo libidn12; }

eximfilter_conf() {
	cat <<EOF
# eximfilter: written by scripts/teststack.d/eximfilter.sh, rewritten at each start.
exim_path = $EXIM_BIN
exim_user = Debian-exim
exim_group = Debian-exim
primary_hostname = exim-filter.example.test
qualify_domain = example.test
log_file_path = $EXIM_DIR/log/eximfilter-%slog
host_lookup =
rfc1413_hosts =
keep_environment =
never_users = root
message_size_limit = 50M
dsn_advertise_hosts = *
smtputf8_advertise_hosts = *
tls_advertise_hosts =
spool_directory = $EXF_SPOOL
pid_file_path = $RUN/eximfilter.pid
daemon_smtp_ports = $EXF_PORT : $EXF_RPORT
local_interfaces = 127.0.0.1
hostlist relay_from_hosts = 127.0.0.1
acl_smtp_rcpt = acl_rcpt

begin acl
acl_rcpt:
  accept hosts = +relay_from_hosts
  deny

begin routers
# Not scanned yet (not taken back on the re-injection port): to qscan.
qscan:
  driver = manualroute
  condition = \${if !={\$received_port}{$EXF_RPORT}}
  domains = *
  route_list = * 127.0.0.1 byname
  self = send
  transport = qscan_smtp
sink:
  driver = manualroute
  domains = *
  route_list = * 127.0.0.2
  self = send
  transport = sink_smtp

begin transports
qscan_smtp:
  driver = smtp
  port = $EXF_QPORT
  allow_localhost
  hosts_avoid_tls = *
sink_smtp:
  driver = smtp
  port = $SINK_PORT
  allow_localhost
  hosts_avoid_tls = *

begin retry
* * F,1h,5s
EOF
}

eximfilter_prepare() {
	exim_user
	exim_unpack
	mkdir -p "$EXIM_DIR"
	chmod 755 "$EXIM_DIR"
	install -d -o Debian-exim -g Debian-exim -m 750 "$EXIM_DIR/log"
	install -d -o Debian-exim -g Debian-exim -m 750 "$EXF_SPOOL" "$EXF_SPOOL/input" "$EXF_SPOOL/msglog" "$EXF_SPOOL/db"
	eximfilter_conf >"$EXF_CONF.tmp"
	chown root:root "$EXF_CONF.tmp" && chmod 644 "$EXF_CONF.tmp" && mv "$EXF_CONF.tmp" "$EXF_CONF"
	"$EXIM_BIN" -C "$EXF_CONF" -bV >"$RUN/eximfilter.bV" 2>&1 || {
		cat "$RUN/eximfilter.bV" >&2
		die "eximfilter: $EXF_CONF does not parse"
	}
	exim_trust "$EXF_CONF"
}

eximfilter_launch() {
	"$EXIM_BIN" -C "$EXF_CONF" -bd -q5s </dev/null >>"$RUN/eximfilter.out" 2>&1 9>&-
}

eximfilter_answers() { smtp_greets 127.0.0.1 "$EXF_PORT" && smtp_greets 127.0.0.1 "$EXF_RPORT"; }

eximfilter_pidname() { echo "$EXF_CONF"; }

eximfilter_logfiles() { echo "$RUN/eximfilter.out $EXIM_DIR/log/eximfilter-mainlog $EXIM_DIR/log/eximfilter-paniclog"; }

eximfilter_env() {
	printf '%s\n' "EXF_SMTP=127.0.0.1:$EXF_PORT" "EXF_FILTER=127.0.0.1:$EXF_QPORT" "EXF_REINJECT=127.0.0.1:$EXF_RPORT" \
		"EXF_CONF=$EXF_CONF" "EXF_SPOOL=$EXF_SPOOL"
}
