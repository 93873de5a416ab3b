package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/qscan/qscan/pkg/auth"
	"github.com/qscan/qscan/pkg/store"
)

const userUsage = `usage: qscan user add NAME --role admin|domain|user [--domain D]... [--address A]... [-c FILE]
       qscan user del NAME [-c FILE]
       qscan user passwd NAME [-c FILE]
       qscan user list [--json] [-c FILE]

Manages the web desk's accounts. An administrator sees and does
everything; a domain administrator sees the messages to or from their
domains (--domain, repeated or comma separated); a user sees the messages
to their own addresses (--address). Users come from this list only (not
from IMAP or LDAP).

add and passwd read the password from standard input when it is not a
terminal (its first line: for scripts), else prompt for it twice without
echo. Passwords are stored as argon2id hashes.

examples:
  qscan user add alice --role admin
  echo 'pass phrase' | qscan user add bob --role user --address bob@example.org
  qscan user add hostmaster --role domain --domain example.org,example.net
  qscan user passwd bob
  qscan user list

exit codes: 0 done; 64 usage; 65 no such user, or the name is taken, or a
bad password; 78 configuration error; 1 other error.
`

const exitDataErr = 65 // EX_DATAERR

func cmdUser(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, userUsage)
		return exitUsage
	}
	sub := map[string]func([]string) int{"add": userAdd, "del": userDel, "passwd": userPasswd, "list": userList}
	f, ok := sub[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "qscan user: unknown command %q\n%s", args[0], userUsage)
		return exitUsage
	}
	return f(args[1:])
}

// commaFlag collects a repeatable, comma-separated flag.
type commaFlag []string

func (l *commaFlag) String() string { return strings.Join(*l, ",") }
func (l *commaFlag) Set(v string) error {
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*l = append(*l, x)
		}
	}
	return nil
}

func userFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("user "+name, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, userUsage) }
	return fs, fs.String("c", "", "configuration file")
}

func userAdd(args []string) int {
	fs, cfg := userFlags("add")
	role := fs.String("role", "", "")
	var domains, addrs commaFlag
	fs.Var(&domains, "domain", "")
	fs.Var(&addrs, "address", "")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprint(os.Stderr, userUsage)
		return exitUsage
	}
	u := store.User{Name: pos[0], Role: store.Role(*role), Domains: domains, Addresses: addrs}
	switch {
	case u.Role == store.RoleDomain && len(domains) == 0:
		return userFail("add", "a domain administrator needs --domain")
	case u.Role == store.RoleUser && len(addrs) == 0:
		return userFail("add", "a user needs --address")
	case u.Role != store.RoleAdmin && u.Role != store.RoleDomain && u.Role != store.RoleUser:
		return userFail("add", "--role admin, domain or user")
	}
	for _, a := range addrs {
		if !strings.Contains(a, "@") {
			return userFail("add", fmt.Sprintf("--address %s: not an address", a))
		}
	}
	st, code := openStoreAsOwner("user", *cfg)
	if code != exitOK {
		return code
	}
	defer st.Close()
	if _, err := st.User(context.Background(), u.Name); err == nil {
		return userFail("add", fmt.Sprintf("user %s exists (qscan user passwd %s changes the password)", u.Name, u.Name))
	}
	if u.Hash, code = readHash(); code != exitOK {
		return code
	}
	if err := st.AddUser(context.Background(), u); err != nil {
		return userErr("add", err)
	}
	fmt.Printf("user %s added (%s)\n", u.Name, u.Role)
	return exitOK
}

func userDel(args []string) int {
	fs, cfg := userFlags("del")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprint(os.Stderr, userUsage)
		return exitUsage
	}
	st, code := openStoreAsOwner("user", *cfg)
	if code != exitOK {
		return code
	}
	defer st.Close()
	if err := st.DeleteUser(context.Background(), pos[0]); err != nil {
		return userErr("del", err)
	}
	fmt.Printf("user %s deleted\n", pos[0])
	return exitOK
}

func userPasswd(args []string) int {
	fs, cfg := userFlags("passwd")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprint(os.Stderr, userUsage)
		return exitUsage
	}
	st, code := openStoreAsOwner("user", *cfg)
	if code != exitOK {
		return code
	}
	defer st.Close()
	if _, err := st.User(context.Background(), pos[0]); err != nil {
		return userErr("passwd", err)
	}
	hash, code := readHash()
	if code != exitOK {
		return code
	}
	if err := st.SetPassword(context.Background(), pos[0], hash); err != nil {
		return userErr("passwd", err)
	}
	fmt.Printf("password of %s changed\n", pos[0])
	return exitOK
}

func userList(args []string) int {
	fs, cfg := userFlags("list")
	asJSON := fs.Bool("json", false, "")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 0 {
		fmt.Fprint(os.Stderr, userUsage)
		return exitUsage
	}
	st, code := openStoreAsOwner("user", *cfg)
	if code != exitOK {
		return code
	}
	defer st.Close()
	us, err := st.Users(context.Background())
	if err != nil {
		return userErr("list", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, u := range us {
			enc.Encode(u) // the hash is not in the JSON (json:"-")
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tDOMAINS\tADDRESSES\tCREATED")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", quarClean(u.Name, 64), u.Role, quarOr(quarClean(strings.Join(u.Domains, ","), 60), "-"),
			quarOr(quarClean(strings.Join(u.Addresses, ","), 60), "-"), u.Created.Local().Format("2006-01-02 15:04"))
	}
	tw.Flush()
	return exitOK
}

// readHash reads a password (see userUsage) and returns its hash.
func readHash() (string, int) {
	pw, err := readPassword(os.Stdin, os.Stderr)
	if err != nil {
		return "", userFail("password", err.Error())
	}
	hash, err := auth.Hash(pw)
	if err != nil {
		return "", userFail("password", err.Error())
	}
	return hash, exitOK
}

// readPassword prompts twice without echo on a terminal; otherwise it
// reads the first line of in (at most auth.MaxPassword bytes).
func readPassword(in *os.File, prompt io.Writer) (string, error) {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReaderSize(io.LimitReader(in, auth.MaxPassword+2), auth.MaxPassword+2).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read password: %w", err)
		}
		if err == io.EOF && len(line) > auth.MaxPassword {
			return "", auth.ErrTooLong
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	var pws [2]string
	for i, p := range []string{"Password: ", "Again: "} {
		fmt.Fprint(prompt, p)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		pws[i] = string(b)
	}
	if pws[0] != pws[1] {
		return "", errors.New("the passwords differ")
	}
	return pws[0], nil
}

func userFail(op, msg string) int {
	fmt.Fprintf(os.Stderr, "qscan user %s: %s\n", op, msg)
	return exitDataErr
}

func userErr(op string, err error) int {
	fmt.Fprintf(os.Stderr, "qscan user %s: %v\n", op, err)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrInvalid) {
		return exitDataErr
	}
	return exitFail
}
