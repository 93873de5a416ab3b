#!/bin/bash
# regen.sh makes the real sendmail (8.17, Debian sendmail-bin) write the golden
# qf/df files of this directory. Run as root from anywhere:
#
#	bash pkg/sendmail/testdata/regen.sh && go test ./pkg/sendmail -update
#
# It starts a private queue-only sendmail on 127.0.0.1:2591 and [::1]:2591,
# submits one message per case with smtpsend (a small Go SMTP client that can
# send DSN, 8BITMIME and AUTH parameters), copies qf<ID>/df<ID> to NAME.qf /
# NAME.df, and stops the daemon. Nothing is delivered.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=${QSCAN_GOLDEN_WORK:-/tmp/qscan-golden}
port=${QSCAN_GOLDEN_PORT:-2591}
queue=$work/mqueue.in
saslconf=/etc/sasl2/Sendmail.conf  # where Debian's sendmail looks

command -v /usr/sbin/sendmail >/dev/null || { echo "regen.sh: sendmail-bin not installed" >&2; exit 1; }
mkdir -p "$work"
rm -rf "$queue"
mkdir -p "$queue"
chown smmta:smmsp "$queue"
chmod 2750 "$queue"

# The test .mc names a service switch without DNS.
[ -e /etc/mail/service.switch-nodns ] || printf 'hosts\tfiles\naliases\tfiles\n' > /etc/mail/service.switch-nodns

m4 "$here/golden.mc" > "$work/test.cf" 2>/dev/null
go build -o "$work/smtpsend" "$here/smtpsend"

# AUTH PLAIN: a private sasldb; Sendmail.conf is only written when absent and
# removed again at exit (its mech_list keeps other instances unaffected).
made_saslconf=
if [ ! -e "$saslconf" ] && command -v saslpasswd2 >/dev/null; then
	mkdir -p /etc/sasl2
	printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: %s\n' \
		"$work/sasldb2" > "$saslconf"
	made_saslconf=1
fi
rm -f "$work/sasldb2"
if command -v saslpasswd2 >/dev/null; then
	echo 'golden-secret' | saslpasswd2 -p -c -f "$work/sasldb2" -u mx.example.test carol
	chmod 0600 "$work/sasldb2"
fi

pidfile=$work/sendmail.pid
cleanup() {
	if [ -s "$pidfile" ]; then kill "$(head -1 "$pidfile")" 2>/dev/null || true; fi
	if [ -n "$made_saslconf" ]; then rm -f "$saslconf"; rmdir /etc/sasl2 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

/usr/sbin/sendmail -C "$work/test.cf" -bd -ODeliveryMode=queueonly \
	-OQueueDirectory="$queue" -OPidFile="$pidfile" \
	-ODaemonPortOptions=Port=$port,Addr=127.0.0.1,Name=MTA-golden \
	-ODaemonPortOptions=Port=$port,Addr=::1,Family=inet6,Name=MTA-golden6
i=0
until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "regen.sh: sendmail did not start" >&2; exit 1; }
	sleep 0.1
done

# send NAME ADDR [smtpsend args...] < message
send() {
	name=$1; addr=$2; shift 2
	id=$("$work/smtpsend" -addr "$addr" "$@")
	cp "$queue/qf$id" "$here/$name.qf"
	cp "$queue/df$id" "$here/$name.df"
	echo "$(date +%T) $name: $id"
}

echo "$(date +%T) started"
v4=127.0.0.1:$port
v6=[::1]:$port
date=$(date -u '+%a, %d %b %Y %H:%M:%S +0000')

send basic "$v4" -helo client.example.test -from '<alice@sender.example>' -rcpt '<bob@example.test>' <<MSG
Date: $date
From: Alice <alice@sender.example>
To: bob@example.test
Subject: basic golden message
Message-ID: <basic@sender.example>

Hello Bob.
.dot-stuffed line
MSG

send multi "$v4" -helo client.example.test -from '<alice@sender.example>' \
	-rcpt '<bob@example.test>' -rcpt '<Carol@Example.Test>' -rcpt '<dave@other.example>' <<MSG
Date: $date
From: alice@sender.example
To: bob@example.test, Carol@Example.Test
Cc: dave@other.example
Subject: three recipients

Body.
MSG

send dsn "$v4" -helo dsn.example.test -from '<alice@sender.example> RET=HDRS ENVID=qscan-envid-1' \
	-rcpt '<bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Borig@example.test' \
	-rcpt '<carol@example.test> NOTIFY=NEVER' \
	-rcpt '<dave@example.test> NOTIFY=DELAY ORCPT=rfc822;Dave@Example.Test' <<MSG
Date: $date
From: alice@sender.example
To: bob@example.test
Subject: dsn parameters

Body.
MSG

send ipv6 "$v6" -helo '[IPv6:::1]' -from '<alice@sender.example>' -rcpt '<bob@example.test>' <<MSG
Date: $date
From: alice@sender.example
To: bob@example.test
Subject: over IPv6

Body.
MSG

printf 'Date: %s\nFrom: alice@sender.example\nTo: bob@example.test\nSubject: Gr\303\274\303\237e \342\202\254 8-bit\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\303\274\303\237e, 100 \342\202\254, \201\237\377 raw bytes.\n' "$date" |
	send eightbit "$v4" -helo client.example.test -from '<alice@sender.example> BODY=8BITMIME' -rcpt '<bob@example.test>'

if [ -s "$work/sasldb2" ]; then
	send auth "$v4" -helo client.example.test -auth carol@mx.example.test:golden-secret \
		-from '<carol@sender.example>' -rcpt '<bob@example.test>' <<MSG
Date: $date
From: carol@sender.example
To: bob@example.test
Subject: authenticated

Body.
MSG
fi

# AUTH= on MAIL FROM from an authenticated client: sendmail keeps it as an A line.
if [ -s "$work/sasldb2" ]; then
	send authparam "$v4" -helo client.example.test -auth carol@mx.example.test:golden-secret \
		-from '<carol@sender.example> AUTH=carol+2Bsubmit@sender.example' -rcpt '<bob@example.test>' <<MSG
Date: $date
From: carol@sender.example
To: bob@example.test
Subject: authenticated with AUTH= parameter

Body.
MSG
fi

# Local submission (sendmail run by root, no SMTP client): $_ has no [address].
before=$(ls "$queue")
/usr/sbin/sendmail -C "$work/test.cf" -ODeliveryMode=queueonly -OQueueDirectory="$queue" \
	-f alice@sender.example bob@example.test <<MSG
From: alice@sender.example
To: bob@example.test
Subject: local submission

Body.
MSG
id=$(ls "$queue" | grep '^qf' | grep -vxF "$before" | sed 's/^qf//' | head -1)
cp "$queue/qf$id" "$here/local.qf"
cp "$queue/df$id" "$here/local.df"
echo "$(date +%T) local: $id"

long=$(i=0; while [ $i -lt 60 ]; do printf 'word%02d-abcdefghijklmnopqrstuvwxyz ' $i; i=$((i + 1)); done)
line=$(i=0; while [ $i -lt 40 ]; do printf 'token%02d-abcdefghijklmnopqrstuvwxyz-' $i; i=$((i + 1)); done)
{
	printf 'Date: %s\nFrom: alice@sender.example\nTo: bob@example.test\n' "$date"
	printf 'Subject: long folded subject\n' 
	for w in $long; do printf '\t%s\n' "$w"; done
	printf 'X-Long-Line: %s\n' "$line"
	printf 'X-Spaces:   leading and trailing   \n'
	printf '\nBody.\n'
} | send longhdr "$v4" -helo client.example.test -from '<alice@sender.example>' -rcpt '<bob@example.test>'

send nullsender "$v4" -helo bounce.example.test -from '<>' -rcpt '<bob@example.test>' <<MSG
Date: $date
From: MAILER-DAEMON@sender.example
To: bob@example.test
Subject: Returned mail

The original message was lost.
MSG

# A NUL byte in the body is refused by this build ("554 5.6.1 NUL byte not
# allowed", _FFR_REJECT_NUL_BYTE), so there is no golden qf for it.
