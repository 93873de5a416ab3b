package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// amavisd-new (Debian's amavisd-new) in qscan's place behind the filter
// Postfix, for the content filter's table: the same clamd, the same
// messages, as many checking processes ($max_servers) as qscan has
// connections to each engine. Spam checks are off, as in qscan's shipped
// configuration; infected mail is passed on with a header (D_PASS), not
// discarded, so that every message reaches the sink as with qscan (which
// removes the virus and delivers the rest). amavisd scans with clamd's
// CONTSCAN on its temporary files: it runs as clamd's user so that clamd
// can read them.

const amavisd = "/usr/sbin/amavisd"

// amavisAvailable is "" when amavisd-new can run here, else why not.
func amavisAvailable(spam bool) string {
	if _, err := os.Stat(amavisd); err != nil {
		return "amavisd-new is not installed (apt-get install --no-install-recommends amavisd-new)"
	}
	if spam && exec.Command("perl", "-MMail::SpamAssassin", "-e", "1").Run() != nil {
		return "SpamAssassin's Perl modules are not installed (apt-get install spamassassin)"
	}
	if _, err := user.Lookup("clamav"); err != nil {
		return "no clamav user for amavisd-new to run as"
	}
	return ""
}

// amavisRun is a running amavisd-new.
type amavisRun struct {
	cmd  *exec.Cmd
	base string // the configuration, the output and home/
}

// startAmavis writes amavisd-new's configuration under a directory of its
// own and starts it in the foreground, listening on pf.Filter.
//
// With spam, amavisd-new runs SpamAssassin itself (in its processes, as
// Debian's package does) with a copy of the site configuration of the
// stack's spamd (offline tests; Bayes on, nothing learned, its database in
// amavisd-new's home), local tests only, and passes spam with its headers.
func startAmavis(s stackutil.Stack, pf stackutil.PostfixFilter, conc int, spam bool) (*amavisRun, error) {
	u, err := user.Lookup("clamav")
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The configuration in a directory amavisd's user cannot write (it
	// refuses to start otherwise), its files in home.
	base, err := os.MkdirTemp("", "qscan-bench-amavis-")
	if err != nil {
		return nil, err
	}
	os.Chmod(base, 0o755)
	home := filepath.Join(base, "home")
	for _, d := range []string{"", "tmp", "db", "var"} {
		p := filepath.Join(home, d)
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, err
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return nil, err
		}
	}
	siteConf := filepath.Join(home, "sa")
	if spam {
		if err := copySAConfig(filepath.Join(s.Dir, "spamd"), siteConf, filepath.Join(home, "db", "bayes"), uid, gid); err != nil {
			return nil, err
		}
	}
	host, port, ok := strings.Cut(pf.Filter, ":")
	if !ok {
		return nil, fmt.Errorf("amavisd: filter address %q", pf.Filter)
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
	conf := fmt.Sprintf(`use strict;
$MYHOME = %s;
$TEMPBASE = "$MYHOME/tmp";
$db_home = "$MYHOME/db";
$helpers_home = "$MYHOME/var";
$pid_file = "$MYHOME/amavisd.pid";
$lock_file = "$MYHOME/amavisd.lock";
$daemon_user = %s;
$daemon_group = %s;
$mydomain = 'example.test';
$myhostname = 'amavis.example.test';
$inet_socket_bind = %s;
$inet_socket_port = %s;
@inet_acl = qw(127.0.0.1);
$forward_method = %s;
$notify_method = $forward_method;
$max_servers = %d;
$enable_db = 0;
$enable_global_cache = 0;
$DO_SYSLOG = 0;
$LOGFILE = "$MYHOME/amavis.log";
$log_level = 0;
@local_domains_maps = (['.example.test']);
@bypass_spam_checks_maps = (%s);
$sa_local_tests_only = 1;
$sa_siteconfigpath = %s;
$sa_tag_level_deflt = -999;
$sa_tag2_level_deflt = 5.0;
$sa_kill_level_deflt = 9999;
$final_spam_destiny = D_PASS;
$warnspamsender = 0;
$spam_admin = undef;
$spam_quarantine_method = undef;
$final_virus_destiny = D_PASS;
$final_banned_destiny = D_PASS;
$final_bad_header_destiny = D_PASS;
$virus_admin = undef;
$warnvirussender = 0;
$warnbannedsender = 0;
$warnbadhsender = 0;
$virus_quarantine_method = undef;
@av_scanners = (
 ['ClamAV-clamd', \&ask_daemon, ["CONTSCAN {}\n", %s],
   qr/\bOK$/m, qr/\bFOUND$/m, qr/^.*?: (?!Infected Archive)(.*) FOUND$/m ],
);
@av_scanners_backup = ();
1;
`, q(home), q(u.Username), q(u.Username), q(host), port, q("smtp:["+strings.ReplaceAll(pf.Reinject, ":", "]:")), conc,
		map[bool]string{false: "1", true: "0"}[spam], q(siteConf), q(s.ClamdSocket))
	cfg := filepath.Join(base, "amavisd.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(amavisd, "-c", cfg, "foreground")
	out, err := os.Create(filepath.Join(base, "amavisd.out"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	out.Close()
	return &amavisRun{cmd: cmd, base: base}, nil
}

// cpu is the CPU of amavisd and its children (live or reaped) so far.
func (a *amavisRun) cpu() time.Duration {
	pid := a.cmd.Process.Pid
	var total time.Duration
	ds, _ := os.ReadDir("/proc")
	for _, d := range ds {
		p, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		f := statFields(p)
		if len(f) < 15 || f[2] != strconv.Itoa(pid) { // pgrp
			continue
		}
		total += ticks(f[11]) + ticks(f[12])
		if p == pid {
			total += ticks(f[13]) + ticks(f[14]) // reaped children
		}
	}
	return total
}

// log is the end of amavisd's output and log.
func (a *amavisRun) log() []byte {
	b, _ := os.ReadFile(filepath.Join(a.base, "amavisd.out"))
	l, _ := os.ReadFile(filepath.Join(a.base, "home", "amavis.log"))
	return tail(append(b, l...), 2000)
}

// stop ends amavisd (SIGTERM; its children follow) and removes its files.
func (a *amavisRun) stop() {
	pid := a.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { a.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL) // its own process group
		<-done
	}
	// Children still closing.
	stackutil.WaitUntil(10*time.Second, func() bool { return syscall.Kill(-pid, 0) != nil })
	if dir := os.Getenv("BENCH_LOG_DIR"); dir != "" {
		l, _ := os.ReadFile(filepath.Join(a.base, "home", "amavis.log"))
		os.WriteFile(filepath.Join(dir, "filter-amavisd.log"), l, 0o644)
	}
	os.RemoveAll(a.base)
}

// copySAConfig copies spamd's site configuration directory from to to,
// with its bayes_path set to bayes, for amavisd-new's user.
func copySAConfig(from, to, bayes string, uid, gid int) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	des, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, de.Name()))
		if err != nil {
			return err
		}
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "bayes_path ") {
				out = append(out, line)
			}
		}
		if de.Name() == "local.cf" {
			out = append(out, "bayes_path "+bayes, "")
		}
		if err := os.WriteFile(filepath.Join(to, de.Name()), []byte(strings.Join(out, "\n")), 0o644); err != nil {
			return err
		}
	}
	return os.Chown(to, uid, gid)
}
