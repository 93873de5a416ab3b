# shellcheck shell=bash
# chromium: Debian's headless browser for the web desk's browser tests
# (test/web_e2e_test.go, chromedp). No daemon: the tests start their own
# browser; the component "answers" when the binary is installed.
chromium_packages() { echo chromium; }
chromium_prepare() { :; }
chromium_launch() { :; }
chromium_answers() { command -v chromium >/dev/null; }
chromium_stop() { :; }
chromium_env() { echo "CHROMIUM=$(command -v chromium || echo chromium)"; }
