# shellcheck shell=bash
# exim: a real Exim 4.96 beside the installed sendmail, in MailScanner's
# two-instance layout (sourced by scripts/teststack; see its header).
#
#   exim-in   `exim -bd` on 127.0.0.1 and ::1, port 2725 (+offset), with
#             queue_only: accepts mail and parks it as -H/-D files in
#             exim4.in/input/ (flat spool), undelivered.
#   exim-out  no listener: `exim -q30m`, a queue runner over exim4/input/
#             (split_spool_directory, so input/<X>/), where qscan writes;
#             every address goes to the sink by a manualroute router.
#             `exim -C $EXIM_CONF_OUT -M ID` delivers one message now.
#
# Debian's exim4-daemon-light conflicts with sendmail-bin (both are the
# system MTA), so the packages are not installed: their .debs are fetched
# with `apt-get download` (cached in $EXIM_DEB_CACHE) and unpacked with
# `dpkg -x` into $QSCAN_STACK/exim/root. Only libidn12, a plain library the
# binary links against, is installed with apt-get.
#
# What Debian's build allows (exim -bV; src/exim.c): no ALT_CONFIG_PREFIX,
# TRUSTED_CONFIG_LIST=/etc/exim4/trusted_configs, configure owner root. A
# caller whose real uid is root may name any configuration with -C and
# keeps root; but the daemons run as the Exim user, and when they
# re-execute Exim (exim_path: the private binary) for a queue run or a
# delivery, -C keeps privilege only for a file listed in
# TRUSTED_CONFIG_LIST (otherwise "exim user lost privilege for using -C
# option" in the panic log). So the two configuration files (owned by
# root, mode 644) are listed in /etc/exim4/trusted_configs (root, 644),
# the one file outside $QSCAN_STACK this plug-in writes; the binary's
# compiled-in /etc/exim4/exim4.conf is never read. The Exim user is
# Debian-exim (compiled in), created here when absent.

EXIM_DEB_CACHE=${EXIM_DEB_CACHE:-/var/cache/qscan-teststack/debs}
EXIM_DIR=$STACK/exim
EXIM_ROOT=$EXIM_DIR/root
EXIM_BIN=$EXIM_ROOT/usr/sbin/exim4
EXIM_CONF_IN=$EXIM_DIR/exim-in.conf
EXIM_CONF_OUT=$EXIM_DIR/exim-out.conf
EXIM_SPOOL_IN=$STACK/exim4.in
EXIM_SPOOL_OUT=$STACK/exim4
EXIM_PORT=$((2725 + PORTS))
EXIM_DEBS=(exim4-base exim4-config exim4-daemon-light)

exim_packages() { echo libidn12; }

exim_unpack() {
	[[ -x $EXIM_BIN ]] && "$EXIM_BIN" -C /dev/null -bV 2>/dev/null | grep -q '^Exim version 4\.96' && return 0
	mkdir -p "$EXIM_DEB_CACHE" "$EXIM_ROOT"
	local p have
	for p in "${EXIM_DEBS[@]}"; do
		have=$(compgen -G "$EXIM_DEB_CACHE/${p}_4.96-*.deb" | head -n 1) || true
		if [[ -z $have ]]; then
			log "exim: apt-get download $p"
			# _apt cannot write to a root-owned directory: download in a
			# directory of its own, then move the file into the cache.
			local tmp
			tmp=$(mktemp -d)
			chmod 777 "$tmp"
			(cd "$tmp" && apt-get download -q "$p" >/dev/null 2>&1) ||
				{ apt-get update -q >/dev/null 2>&1 && (cd "$tmp" && apt-get download -q "$p"); } ||
				{ rm -rf "$tmp"; die "exim: apt-get download $p failed"; }
			mv "$tmp"/*.deb "$EXIM_DEB_CACHE/" && rm -rf "$tmp"
			have=$(compgen -G "$EXIM_DEB_CACHE/${p}_4.96-*.deb" | head -n 1)
		fi
		dpkg -x "$have" "$EXIM_ROOT" || die "exim: dpkg -x $have failed"
	done
	"$EXIM_BIN" -C /dev/null -bV 2>&1 | grep -q '^Exim version 4\.96' || die "exim: $EXIM_BIN -bV does not say Exim 4.96"
}

exim_user() {
	getent group Debian-exim >/dev/null || groupadd --system Debian-exim
	getent passwd Debian-exim >/dev/null ||
		useradd --system --gid Debian-exim --home-dir /var/spool/exim4 --no-create-home \
			--shell /usr/sbin/nologin --comment "Exim (qscan test stack)" Debian-exim
}

# exim_conf ROLE prints the configuration of exim-in or exim-out.
exim_conf() {
	local role=$1
	cat <<EOF
# $role: written by scripts/teststack.d/exim.sh, rewritten at each start.
exim_path = $EXIM_BIN
exim_user = Debian-exim
exim_group = Debian-exim
primary_hostname = $role.example.test
qualify_domain = example.test
log_file_path = $EXIM_DIR/log/$role-%slog
# No DNS, no ident, no lookups of the client's name.
host_lookup =
rfc1413_hosts =
keep_environment =
never_users = root
message_size_limit = 50M
dsn_advertise_hosts = *
smtputf8_advertise_hosts = *
tls_advertise_hosts =
EOF
	if [[ $role == exim-in ]]; then
		cat <<EOF
spool_directory = $EXIM_SPOOL_IN
split_spool_directory = false
pid_file_path = $RUN/exim.pid
daemon_smtp_ports = $EXIM_PORT
local_interfaces = <; 127.0.0.1 ; ::1
# Park every message (MailScanner's exim-in): no delivery at reception
# (and no caller's -odi may ask for one); the daemon runs no queue runner.
queue_only = true
queue_only_override = false
auth_advertise_hosts = *
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data

begin acl
acl_rcpt:
  accept
acl_data:
  # For the golden files of pkg/exim: ACL variables and a header removed
  # (Exim keeps it in the -H marked '*') and one added.
  warn  condition = \${if def:h_X-Qscan-Acl-Test:}
        set acl_m_note = line one\nline two
        set acl_c_conn = connection variable
        remove_header = X-Remove-Me
        add_header = X-Added: by the data ACL
  accept

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{qscan}}{eq{\$auth3}{secret}}}}
  server_set_id = \$auth2
EOF
	else
		cat <<EOF
spool_directory = $EXIM_SPOOL_OUT
split_spool_directory = true
daemon_smtp_ports =
EOF
	fi
	cat <<EOF

begin routers
sink:
  driver = manualroute
  domains = *
  route_list = * 127.0.0.2
  self = send
  transport = sink_smtp

begin transports
sink_smtp:
  driver = smtp
  port = $SINK_PORT
  allow_localhost
  hosts_avoid_tls = *

begin retry
* * F,1h,1m
EOF
}

exim_prepare() {
	exim_user # before exim_unpack: exim -bV refuses to run without its user
	exim_unpack
	mkdir -p "$EXIM_DIR"
	chmod 755 "$EXIM_DIR"
	# Exim writes its logs as the Exim user.
	install -d -o Debian-exim -g Debian-exim -m 750 "$EXIM_DIR/log"
	local q role conf
	for q in "$EXIM_SPOOL_IN" "$EXIM_SPOOL_OUT"; do
		install -d -o Debian-exim -g Debian-exim -m 750 "$q" "$q/input" "$q/msglog" "$q/db"
	done
	for role in exim-in exim-out; do
		conf=$EXIM_DIR/$role.conf
		exim_conf "$role" >"$conf.tmp"
		chown root:root "$conf.tmp" && chmod 644 "$conf.tmp" && mv "$conf.tmp" "$conf"
		"$EXIM_BIN" -C "$conf" -bV >"$RUN/$role.bV" 2>&1 || {
			cat "$RUN/$role.bV" >&2
			die "exim: $conf does not parse"
		}
	done
	exim_trust "$EXIM_CONF_IN" "$EXIM_CONF_OUT"
	# Both spools on one filesystem: an unchanged -D can be hard-linked.
	[[ $(stat -c %d "$EXIM_SPOOL_IN") == $(stat -c %d "$EXIM_SPOOL_OUT") ]] ||
		die "$EXIM_SPOOL_IN and $EXIM_SPOOL_OUT are on different filesystems"
}

# exim_trust adds configuration files to Debian's TRUSTED_CONFIG_LIST.
exim_trust() {
	local list=/etc/exim4/trusted_configs f
	install -d -m 755 /etc/exim4
	[[ -e $list ]] || install -m 644 /dev/null "$list"
	for f; do
		grep -qxF -- "$f" "$list" || printf '%s\n' "$f" >>"$list"
	done
	chown root:root "$list" && chmod 644 "$list"
}

exim_launch() {
	"$EXIM_BIN" -C "$EXIM_CONF_IN" -bd </dev/null >>"$RUN/exim.out" 2>&1 9>&-
	# exim-out: a queue-runner daemon (no listener), like sendmail #2's -q15m.
	"$EXIM_BIN" -C "$EXIM_CONF_OUT" -q30m -oP "$RUN/exim-out.pid" </dev/null >>"$RUN/exim-out.out" 2>&1 9>&-
}

exim_answers() {
	smtp_greets 127.0.0.1 "$EXIM_PORT" && exim_out_pid >/dev/null
}

exim_pidname() { echo "$EXIM_BIN"; }

# exim_out_pid prints the pid of exim-out's queue runner, if it is ours.
exim_out_pid() {
	local pid
	[[ -s $RUN/exim-out.pid ]] || return 1
	pid=$(head -n 1 "$RUN/exim-out.pid" | tr -dc 0-9)
	[[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$EXIM_CONF_OUT" || return 1
	echo "$pid"
}

exim_stop() {
	local pid i which
	for which in in out; do
		if [[ $which == in ]]; then pid=$(ourpid exim) || pid=; else pid=$(exim_out_pid) || pid=; fi
		[[ -n $pid ]] || continue
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		log "exim-$which stopped"
	done
	rm -f "$RUN/exim.pid" "$RUN/exim-out.pid"
}

exim_logfiles() { echo "$RUN/exim.out $RUN/exim-out.out $EXIM_DIR/log/exim-in-mainlog $EXIM_DIR/log/exim-in-paniclog $EXIM_DIR/log/exim-out-mainlog $EXIM_DIR/log/exim-out-paniclog"; }

exim_env() {
	printf '%s\n' "EXIM_BIN=$EXIM_BIN" "EXIM_SMTP=127.0.0.1:$EXIM_PORT" "EXIM_SMTP6=[::1]:$EXIM_PORT" \
		"EXIM_CONF_IN=$EXIM_CONF_IN" "EXIM_CONF_OUT=$EXIM_CONF_OUT" \
		"EXIM_SPOOL_IN=$EXIM_SPOOL_IN" "EXIM_SPOOL_OUT=$EXIM_SPOOL_OUT"
}
