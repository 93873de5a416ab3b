# shellcheck shell=bash
# postfix: a real Postfix 3.7 (Debian 12's package) beside the installed
# sendmail, in MailScanner's layout: smtpd on loopback accepts mail and
# header_checks (/^Received:/ HOLD) parks every message in the hold queue;
# qscan writes the outgoing message into the incoming queue, whose queue
# manager relays it to the sink.
#
# Debian's postfix package conflicts with sendmail-bin (each is the system
# MTA), so it is not installed: `apt-get download` fetches the .deb (kept in
# $STACK/cache) and `dpkg -x` unpacks it into $STACK/postfix/root. The
# instance has its own config_directory, queue_directory and data_directory
# under $STACK/postfix, and runs its programs with LD_LIBRARY_PATH pointing
# at the unpacked shared libraries (their RUNPATH is /usr/lib/postfix).
#
#   smtpd            127.0.0.1:(2625+offset), and [::1] when the host has IPv6
#   relayhost        [127.0.0.2]:$SINK_PORT (the sink)
#   XCLIENT          allowed from 127.0.0.0/8 (tests fake an IPv6 client)
#   SASL             Cyrus sasldb: user qscan-test, password qscan-test-pw
#   long queue IDs   QSCAN_POSTFIX_LONG_IDS=yes before start (default no)
#
# Exports (scripts/teststack env): POSTFIX_SMTP, POSTFIX_SMTP6, POSTFIX_ROOT,
# POSTFIX_CONFIG, POSTFIX_QUEUE, POSTFIX_LD_LIBRARY_PATH, POSTFIX_SASL_USER,
# POSTFIX_SASL_PASS. Run its tools as
#   LD_LIBRARY_PATH=$POSTFIX_LD_LIBRARY_PATH $POSTFIX_ROOT/usr/sbin/postqueue -c $POSTFIX_CONFIG -p

PF_DIR=$STACK/postfix
PF_ROOT=$PF_DIR/root
PF_CONF=$PF_DIR/etc
PF_QUEUE=$PF_DIR/queue
PF_DATA=$PF_DIR/data
PF_LIB=$PF_ROOT/usr/lib/postfix
PF_HOST=127.0.0.1 PF_PORT=$((2625 + PORTS))
PF_SASL_USER=qscan-test PF_SASL_PASS=qscan-test-pw

postfix_packages() { echo sasl2-bin; }

postfix_has_ipv6() {
	[[ -e /proc/net/if_inet6 ]] && grep -q '^0\{31\}1 ' /proc/net/if_inet6
}

# postfix_unpack fetches Debian's postfix 3.7 .deb once and unpacks it.
postfix_unpack() {
	local deb
	mkdir -p "$STACK/cache"
	deb=$(find "$STACK/cache" -maxdepth 1 -name 'postfix_3.7.*_*.deb' | sort | tail -n 1)
	if [[ -z $deb ]]; then
		log "downloading postfix (.deb only, not installed)"
		# apt-get download writes into the current directory; _apt cannot
		# write to a root-owned one, hence the warning it prints.
		(cd "$STACK/cache" && apt-get download -q postfix >/dev/null 2>&1) ||
			(apt-get update -q >/dev/null && cd "$STACK/cache" && apt-get download -q postfix) ||
			die "apt-get download postfix failed"
		deb=$(find "$STACK/cache" -maxdepth 1 -name 'postfix_3.7.*_*.deb' | sort | tail -n 1)
		[[ -n $deb ]] || die "apt-get download postfix gave no postfix 3.7 package: $(ls "$STACK/cache")"
	fi
	if [[ ! -x $PF_ROOT/usr/lib/postfix/sbin/master || $deb -nt $PF_ROOT/.unpacked ]]; then
		rm -rf "$PF_ROOT"
		mkdir -p "$PF_ROOT"
		dpkg -x "$deb" "$PF_ROOT" || die "dpkg -x $deb failed"
		touch "$PF_ROOT/.unpacked"
	fi
}

postfix_users() {
	getent group postfix >/dev/null || groupadd --system postfix
	getent group postdrop >/dev/null || groupadd --system postdrop
	getent passwd postfix >/dev/null ||
		useradd --system --gid postfix --home-dir /var/spool/postfix --no-create-home \
			--shell /usr/sbin/nologin --comment "Postfix (qscan test stack)" postfix
}

postfix_dirs() { postfix_instance_dirs "$PF_DIR" "$PF_CONF" "$PF_QUEUE" "$PF_DATA"; }

# postfix_instance_dirs DIR CONF QUEUE DATA: the directories of a private
# Postfix instance, with the owners and modes postfix-install gives them.
postfix_instance_dirs() {
	local d
	install -d -m 755 "$1" "$2" "$3"
	chown root:root "$3"
	for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
		install -d -o postfix -g root -m 700 "$3/$d"
	done
	install -d -o postfix -g postdrop -m 730 "$3/maildrop"
	install -d -o postfix -g postdrop -m 710 "$3/public"
	install -d -o root -g root -m 755 "$3/pid"
	install -d -o postfix -g postfix -m 700 "$4"
}

# postfix_paths CONF QUEUE DATA LOG SYSLOG: the main.cf lines that place a
# private Postfix instance of the unpacked root (the postfix and
# postfixfilter plug-ins' instances share it): its directories, programs,
# owner and log file $RUN/LOG.log.
postfix_paths() {
	cat <<EOF
compatibility_level = 3.6
config_directory = $1
queue_directory = $2
data_directory = $3
command_directory = $PF_ROOT/usr/sbin
daemon_directory = $PF_ROOT/usr/lib/postfix/sbin
shlib_directory = $PF_LIB
meta_directory = $1
sendmail_path = $PF_ROOT/usr/sbin/sendmail
newaliases_path = $PF_ROOT/usr/bin/newaliases
mailq_path = $PF_ROOT/usr/bin/mailq
manpage_directory = no
sample_directory = no
readme_directory = no
html_directory = no
mail_owner = postfix
setgid_group = postdrop
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH=$PF_LIB
maillog_file = $RUN/$4.log
maillog_file_prefixes = $RUN
syslog_name = $5
EOF
}

postfix_maincf() {
	local inet=127.0.0.1 protos=ipv4 nets="127.0.0.0/8 [2001:db8::]/32" long=${QSCAN_POSTFIX_LONG_IDS:-no}
	if postfix_has_ipv6; then
		inet="127.0.0.1, [::1]" protos=all nets="127.0.0.0/8 [::1]/128 [2001:db8::]/32"
	fi
	cat <<EOF
# Generated by scripts/teststack.d/postfix.sh: do not edit.
EOF
	postfix_paths "$PF_CONF" "$PF_QUEUE" "$PF_DATA" postfix "postfix-qscan-$PORTS"
	cat <<EOF

myhostname = postfix-in.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
relayhost = [$SINK_HOST]:$SINK_PORT
inet_interfaces = $inet
inet_protocols = $protos
mynetworks = $nets
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = postfix-in.example.test
cyrus_sasl_config_path = $PF_CONF/sasl
smtpd_tls_security_level = none
smtp_tls_security_level = none
# Deliver long lines as they are queued (the default breaks them at 998
# bytes): the tests compare what reaches the sink with the queue file.
smtp_line_length_limit = 0
smtputf8_enable = yes
biff = no
append_dot_mydomain = no
delay_warning_time = 0
enable_long_queue_ids = $long
message_size_limit = 52428800

# MailScanner's layout: every message accepted by smtpd waits in hold.
header_checks = regexp:$PF_CONF/header_checks
EOF
}

postfix_mastercf() {
	local ip
	echo "# Generated by scripts/teststack.d/postfix.sh: do not edit."
	for ip in 127.0.0.1 "[::1]"; do
		[[ $ip == "[::1]" ]] && ! postfix_has_ipv6 && continue
		printf '%s:%s inet n - n - - smtpd\n' "$ip" "$PF_PORT"
	done
	cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

postfix_prepare() {
	postfix_unpack
	postfix_users
	postfix_dirs
	postfix_maincf >"$PF_CONF/main.cf"
	postfix_mastercf >"$PF_CONF/master.cf"
	cp "$PF_ROOT/etc/postfix/postfix-files" "$PF_CONF/postfix-files" 2>/dev/null || true
	: >"$PF_CONF/dynamicmaps.cf"
	printf '/^Received:/ HOLD\n' >"$PF_CONF/header_checks"
	install -d -m 755 "$PF_CONF/sasl"
	printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: %s\n' \
		"$PF_CONF/sasldb2" >"$PF_CONF/sasl/smtpd.conf"
	if [[ ! -s $PF_CONF/sasldb2 ]]; then
		printf '%s' "$PF_SASL_PASS" | saslpasswd2 -p -c -f "$PF_CONF/sasldb2" -u postfix-in.example.test "$PF_SASL_USER" ||
			die "saslpasswd2 failed"
	fi
	chown root:postfix "$PF_CONF/sasldb2" && chmod 640 "$PF_CONF/sasldb2"
	touch "$RUN/postfix.log" && chown postfix "$RUN/postfix.log"
	postfix_tool postconf -c "$PF_CONF" -n >/dev/null || die "postconf rejects $PF_CONF/main.cf"
}

# postfix_tool runs one of the unpacked programs of usr/sbin.
postfix_tool() {
	local tool=$1
	shift
	LD_LIBRARY_PATH=$PF_LIB MAIL_CONFIG=$PF_CONF "$PF_ROOT/usr/sbin/$tool" "$@"
}

postfix_launch() {
	# master -s stays in the foreground (postfix start-fg does the same),
	# so that its pid is $!; setsid keeps it from the caller's terminal.
	setsid env LD_LIBRARY_PATH="$PF_LIB" MAIL_CONFIG="$PF_CONF" \
		"$PF_ROOT/usr/lib/postfix/sbin/master" -c "$PF_CONF" -s \
		</dev/null >>"$RUN/postfix.out" 2>&1 9>&- &
	echo $! >"$(pidfile postfix)"
}

postfix_answers() { smtp_greets "$PF_HOST" "$PF_PORT"; }

# The config directory is this stack's own: it tells our master from
# another stack's.
postfix_pidname() { echo "$PF_CONF"; }

postfix_logfiles() { echo "$RUN/postfix.log $RUN/postfix.out"; }

postfix_env() {
	echo "POSTFIX_SMTP=$PF_HOST:$PF_PORT"
	if postfix_has_ipv6; then echo "POSTFIX_SMTP6=[::1]:$PF_PORT"; fi
	echo "POSTFIX_ROOT=$PF_ROOT"
	echo "POSTFIX_CONFIG=$PF_CONF"
	echo "POSTFIX_QUEUE=$PF_QUEUE"
	echo "POSTFIX_LD_LIBRARY_PATH=$PF_LIB"
	echo "POSTFIX_SASL_USER=$PF_SASL_USER"
	echo "POSTFIX_SASL_PASS=$PF_SASL_PASS"
}
