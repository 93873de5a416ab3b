// Package installed tests qscan as a postmaster runs it: installed by
// scripts/install (into a private root, with --root), with the shipped
// etc/qscan.toml in which only paths and addresses differ, started by the
// installed init script as user qscan, fed by SMTP through the test
// stack's sendmail, and restarted by the cron health check as root's cron
// runs it.
//
// The tests carry the build tag e2e (`go test -tags e2e ./test/...`). They
// need root and the running test stack (scripts/teststack start; set
// QSCAN_STACK_PORTS for a stack with a port offset) and skip otherwise.
// QSCAN_BIN names the binary to install (default: built from cmd/qscan).
package installed
